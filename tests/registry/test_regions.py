"""Region names as the public sees them."""

from registry import regions


def test_full_name_runs_from_province_to_county():
    assert regions.full_name("330106") == "浙江省杭州市西湖区"


def test_grouping_levels_are_not_part_of_a_name():
    # 429004 仙桃市 sits under 429000 "省直辖县级行政单位", a grouping, not a place
    assert regions.full_name("429004") == "湖北省仙桃市"
    assert regions.full_name("110101") == "北京市东城区"
