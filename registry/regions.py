"""GB/T 2260 region codes (province, prefecture, county), as carried by python-stdnum."""

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | prefecture | county

    @property
    def parent_code(self) -> str | None:
        if self.level == "province":
            return None
        if self.level == "prefecture":
            return self.code[:2] + "0000"
        return self.code[:4] + "00"


def prefix(code: str) -> str:
    """The code with its trailing zero pairs dropped: 330100 -> 3301, 330000 -> 33."""
    for cut in (2, 4):
        if code[cut:] == "0" * (6 - cut):
            return code[:cut]
    return code


def covers(scope: str, code: str) -> bool:
    """Whether region `scope` is `code` or contains it."""
    return code.startswith(prefix(scope))


@cache
def all_regions() -> dict[str, Region]:
    """Current codes only: those with no end year in the data."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text("utf-8")
    out: dict[str, Region] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province, _, rest = line.partition(" ")
            out[province + "0000"] = Region(province + "0000", _value(rest), "province")
            continue
        sub, _, rest = line.strip().partition(" ")
        name = _value(rest)
        if name.startswith("[") and not name.split("]")[0].endswith("-"):
            continue  # abolished
        name = name.split("]", 1)[1] if name.startswith("[") else name
        code = province + sub
        if code.endswith("0000"):
            continue
        level = "prefecture" if code.endswith("00") else "county"
        out[code] = Region(code, name, level)
    return out


def get(code: str) -> Region | None:
    return all_regions().get(code)


def exists(code: str) -> bool:
    return code in all_regions()


# grouping levels of GB/T 2260 that are not places: never part of a name
PLACEHOLDERS = ("市辖区", "县", "省直辖县级行政区划", "省直辖县级行政单位")


def full_name(code: str) -> str:
    """浙江省杭州市西湖区."""
    parts, region = [], get(code)
    while region:
        if region.name not in PLACEHOLDERS:
            parts.append(region.name)
        region = get(region.parent_code) if region.parent_code else None
    return "".join(reversed(parts))


def _value(rest: str) -> str:
    return rest.split("=", 1)[1].strip('"') if "=" in rest else rest
