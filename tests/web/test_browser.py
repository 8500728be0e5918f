"""The public pages in a real browser (headless Chromium), on a phone-sized window."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from registry import crypto, identifiers
from registry.db import db
from tests import factories

pytestmark = pytest.mark.browser

PATIENCE = 60  # seconds: generous, so a slow machine waits rather than fails


def test_parent_searches_a_chinese_name_and_opens_the_profile(live_server, browser):
    inst = factories.institution(name="西湖少儿美术培训学校", region_code="330106",
                                 address="杭州市西湖区文三路90号")
    lic = factories.licence(inst)
    _teacher_and_course(inst)
    factories.licence(factories.institution(name="滨江围棋学堂", region_code="330108"))
    factories.institution(name="无证美术班")  # not licensed: never on the white list

    browser.get(live_server + "/")
    wait = WebDriverWait(browser, PATIENCE)
    box = wait.until(EC.presence_of_element_located((By.ID, "q")))
    box.send_keys("美术")
    browser.find_element(By.ID, "search-button").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "result-count"), "找到 1 家"))

    results = browser.find_elements(By.CSS_SELECTOR, ".results a.name")
    assert [a.text for a in results] == ["西湖少儿美术培训学校"]
    results[0].click()
    wait.until(EC.presence_of_element_located((By.ID, "institution-name")))

    assert browser.find_element(By.ID, "institution-name").text == "西湖少儿美术培训学校"
    assert browser.find_element(By.ID, "list-status").text == "白名单机构"
    assert browser.find_element(By.ID, "uscc").text == inst.uscc
    page = browser.find_element(By.TAG_NAME, "body").text
    assert lic.number in page
    assert "浙江省杭州市西湖区" in page and "杭州市西湖区文三路90号" in page
    teachers = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".teachers li")]
    assert teachers == ["李明 · 持有教师资格证 · 文化艺术"]
    course = browser.find_element(By.CSS_SELECTOR, ".courses li").text
    assert "少儿创意美术" in course and "¥150.00 / 课时" in course and "45 分钟" in course
    assert "330106198504121234" not in page
    assert browser.current_url == f"{live_server}/institutions/{inst.uscc}"
    # fits a phone: nothing wider than the window
    assert browser.execute_script("return window.innerWidth") == 390
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    browser.save_screenshot("/tmp/registry-profile-phone.png")


def _teacher_and_course(inst):
    from registry.courses.models import Course
    from registry.staff.models import Staff

    number = "330106198504121234"
    db.session.add(Staff(
        institution_id=inst.id, region_code=inst.region_code, name="李明",
        id_number_encrypted=crypto.encrypt(number), id_number_index=crypto.blind_index(number),
        id_number_masked=identifiers.mask_ric(number), role="teacher",
        teacher_cert_no="20193310421000123", subjects=["arts"]))
    db.session.add(Course(institution_id=inst.id, region_code=inst.region_code,
                          title="少儿创意美术", subject="arts", audience="primary",
                          delivery="offline", lesson_minutes=45, price_per_lesson=15000,
                          class_size="small", lessons_total=24))
    db.session.commit()


def test_blacklist_page_lists_an_unlicensed_operator(live_server, browser, supervisor, client):
    resp = client.post("/api/v1/blacklist", headers=supervisor, json={
        "name": "某某托管班", "address": "杭州市西湖区某小区5幢", "region_code": "330106",
        "reason_code": "unlicensed_operation", "reason": "以托管名义开展学科类培训"})
    assert resp.status_code == 201
    browser.get(live_server + "/blacklist")
    WebDriverWait(browser, PATIENCE).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".results .card")))
    card = browser.find_element(By.CSS_SELECTOR, ".results .card").text
    assert "某某托管班" in card and "无证办学" in card
    browser.get(live_server + "/")
    WebDriverWait(browser, PATIENCE).until(EC.presence_of_element_located((By.ID, "q")))
    browser.save_screenshot("/tmp/registry-index-phone.png")
