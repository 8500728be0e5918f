"""The framework's ceiling: a bare Flask app answering JSON of the public profile's size.

Served by gunicorn with the same settings as the registry in the same benchmark run.
"""

from flask import Flask, jsonify

app = Flask(__name__)

PROFILE = {
    "uscc": "", "name": "杭州市启明星艺术培训学校", "category": "non_subject",
    "non_subject_type": "arts", "region_code": "330106", "region_name": "浙江省杭州市西湖区",
    "address": "浙江省杭州市西湖区学府路88号", "delivery": "offline", "status": "active",
    "list_status": "whitelisted", "whitelisted": True, "listed_since": "2025-01-01T08:00:00+08:00",
    "blacklist": None,
    "licences": [{"number": "教民33010620210000001号", "issuer": "浙江省杭州市西湖区教育局",
                  "delivery": "offline", "status": "active", "issued_on": "2021-09-01",
                  "expires_on": "2027-08-31"}],
    "teachers": [{"name": "王老师", "qualified": True, "qualification": "教师资格证",
                  "subjects": ["arts"]}] * 3,
    "courses": [], "custody": None,
}


@app.get("/api/v1/public/institutions/<uscc>")
def profile(uscc):
    return jsonify(PROFILE | {"uscc": uscc})
