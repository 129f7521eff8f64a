"""Personnel certificates (domain.md §6): categories, number formats and validity on a date."""
import re
from datetime import date

# 建质[2008]75号 special-operations categories (工种代码).
SPECIAL_OPERATION_CATEGORIES = {
    "01": ("建筑电工", "Electrician"), "02": ("架子工（普通）", "Scaffolder"),
    "03": ("架子工（附着升降）", "Scaffolder (climbing)"), "04": ("起重信号司索工", "Signaller / slinger"),
    "05": ("起重机械司机（塔式起重机）", "Tower crane operator"), "06": ("起重机械司机（施工升降机）", "Hoist operator"),
    "07": ("起重机械司机（物料提升机）", "Material hoist operator"), "08": ("起重机械安装拆卸工（塔式起重机）", "Tower crane erector"),
    "09": ("起重机械安装拆卸工（施工升降机）", "Hoist erector"), "10": ("起重机械安装拆卸工（物料提升机）", "Material hoist erector"),
    "11": ("高处作业吊篮安装拆卸工", "Suspended platform erector"),
}
SAFETY_MANAGER_CATEGORIES = {
    "A": ("企业主要负责人", "Principal"), "B": ("项目负责人", "Project manager"),
    "C1": ("专职安全生产管理人员（机械）", "Safety officer (machinery)"),
    "C2": ("专职安全生产管理人员（土建）", "Safety officer (civil)"),
    "C3": ("专职安全生产管理人员（综合）", "Safety officer (general)"),
}
# 鄂A052015000001: province + city letter + category (2) + year (4) + serial (6).
LEGACY_SPECIAL = re.compile(r"^[\u4e00-\u9fa5][A-Z](\d{2})(\d{4})\d{6}$")
# 鄂建安C1(2015)0000001
SAFETY_MANAGER = re.compile(r"^[\u4e00-\u9fa5]建安(A|B|C1|C2|C3)[（(](\d{4})[)）]\d{7}$")
# Electronic certificates: the number format is issued nationally and not fixed here (§6 caveat).
GENERIC = re.compile(r"^[0-9A-Za-z\u4e00-\u9fa5()（）\-]{6,40}$")


def number_problem(kind: str, category: str, number: str) -> str | None:
    """None if the certificate number fits its kind and category, else a reason code."""
    if kind == "special_operation":
        legacy = LEGACY_SPECIAL.match(number)
        if legacy:
            return None if legacy.group(1) == category else "category_mismatch"
        return None if GENERIC.match(number) else "number_format"
    if kind == "safety_manager":
        match = SAFETY_MANAGER.match(number)
        if match is None:
            return "number_format"
        return None if match.group(1) == category else "category_mismatch"
    return "unknown_kind"


def validity_problem(valid_until: date, on: date) -> str | None:
    return "expired" if valid_until < on else None


def missing_categories(held: dict[str, date], needed: set[str], on: date) -> set[str]:
    """Categories in `needed` without a certificate valid on `on` (held: category → valid_until)."""
    return {c for c in needed if c not in held or held[c] < on}
