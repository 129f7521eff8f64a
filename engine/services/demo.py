"""Demo enterprises and accounts for the embedded default (`make run`); never used in production."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Enterprise, EnterpriseRole, User
from engine.domain.uscc import uscc_check_char

from .accounts import hash_password


def _uscc(region: str, org: str) -> str:
    first17 = f"91{region}{org}"
    return first17 + uscc_check_char(first17)


# (uscc region + organisation code, name, region, roles, integrated)
DEMO_ENTERPRISES = {
    "owner_wuhan": ("420106", "MA4KX1A01", "武汉鑫塔建筑机械租赁有限公司", "420106", ("owner", "maintenance"), True),
    "installer_wuhan": ("420111", "MA4KX2B02", "湖北华安起重设备安装工程有限公司", "420111", ("installer",), False),
    "contractor_wuhan": ("420102", "177685012", "武汉城建工程总承包有限公司", "420102", ("user",), False),
    "owner_yichang": ("420502", "MA48Y3C03", "宜昌三峡起重机械租赁有限公司", "420502", ("owner",), False),
    "supervisor_wuhan": ("420103", "MA4KX4D04", "武汉江城建设监理有限公司", "420103", ("supervisor",), False),
    "inspector_wuhan": ("420104", "MA4KX5E05", "湖北特检建筑机械检测有限公司", "420104", ("inspector",), False),
}
# The installer's 资质 and 安全生产许可证, so the demo installer can lodge notices.
INSTALLER_PAPERS = {"installer_wuhan": dict(
    qualification_no="D242012345", qualification_category="起重设备安装工程专业承包",
    qualification_grade="二级", qualification_valid_until=date(2029, 12, 31),
    safety_licence_no="(鄂)JZ安许证字〔2025〕001234", safety_licence_valid_until=date(2028, 6, 30),
    technical_lead="孙建国")}

# (username, display name, kind, enterprise key, regulator level, region)
DEMO_ACCOUNTS = (
    ("admin", "系统管理员", "admin", None, None, None),
    ("owner_wuhan", "张伟（设备科）", "enterprise", "owner_wuhan", None, None),
    ("installer_wuhan", "李强（安装部）", "enterprise", "installer_wuhan", None, None),
    ("contractor_wuhan", "王芳（项目部）", "enterprise", "contractor_wuhan", None, None),
    ("owner_yichang", "刘洋（设备部）", "enterprise", "owner_yichang", None, None),
    ("supervisor_wuhan", "吴刚（总监办）", "enterprise", "supervisor_wuhan", None, None),
    ("inspector_wuhan", "郑丽（检测部）", "enterprise", "inspector_wuhan", None, None),
    ("reg_wuhan", "陈静（武汉市建设工程安全监督站）", "regulator", None, "city", "420100"),
    ("reg_wuhan2", "黄涛（武汉市建设工程安全监督站）", "regulator", None, "city", "420100"),
    ("reg_yichang", "赵磊（宜昌市建设工程安全监督站）", "regulator", None, "city", "420500"),
    ("reg_province", "周敏（湖北省住房和城乡建设厅）", "regulator", None, "province", "420000"),
    ("admin_hubei", "省级账户管理员（湖北省住房和城乡建设厅）", "regulator", None, "province", "420000"),
    ("admin_wuhan", "市级账户管理员（武汉市建设工程安全监督站）", "regulator", None, "city", "420100"),
)
# Account administrators: the regional ones above, and each demo enterprise's first account.
ACCOUNT_ADMINS = {"admin_hubei", "admin_wuhan", *DEMO_ENTERPRISES}


def demo_email(username: str, kind: str) -> str:
    """Example addresses (reserved domains: nothing is ever delivered to them)."""
    return f"{username}@example.gov.cn" if kind in ("regulator", "admin") else f"{username}@example.com"


def seed_demo_data(session: Session, *, password: str) -> int:
    """Idempotent: existing accounts and enterprises are left as they are."""
    enterprises = {}
    for key, (uscc_region, org, name, region, roles, integrated) in DEMO_ENTERPRISES.items():
        uscc = _uscc(uscc_region, org)
        ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        if ent is None:
            ent = Enterprise(name=name, uscc=uscc, region_code=region, status="approved",
                             integrated=integrated, role_rows=[EnterpriseRole(role=r) for r in roles],
                             **INSTALLER_PAPERS.get(key, {}))
            session.add(ent)
        enterprises[key] = ent
    # The integrated demo owner has no installation qualification of its own: it contracts the
    # demo installer, who alone installs and dismantles its cranes.
    partners = {"owner_wuhan": "installer_wuhan"}
    for key, partner in partners.items():
        if enterprises[key].partner_installer_uscc is None:
            enterprises[key].partner_installer_uscc = _uscc(*DEMO_ENTERPRISES[partner][:2])
    session.flush()
    created = 0
    for username, display, kind, ent_key, level, region in DEMO_ACCOUNTS:
        existing = session.scalar(select(User).where(User.username == username))
        if existing is not None:
            existing.account_admin = existing.account_admin or username in ACCOUNT_ADMINS
            continue
        session.add(User(username=username, display_name=display, kind=kind,
                         password_hash=hash_password(password),
                         enterprise_id=enterprises[ent_key].id if ent_key else None,
                         regulator_level=level, region_code=region, account_admin=username in ACCOUNT_ADMINS,
                         email=demo_email(username, kind)))
        created += 1
    session.flush()
    return created
