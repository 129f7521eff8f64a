"""Demo enterprises and accounts for the embedded default (`make run`); never used in production."""
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
}

# (username, display name, kind, enterprise key, regulator level, region)
DEMO_ACCOUNTS = (
    ("admin", "系统管理员", "admin", None, None, None),
    ("owner_wuhan", "张伟（设备科）", "enterprise", "owner_wuhan", None, None),
    ("installer_wuhan", "李强（安装部）", "enterprise", "installer_wuhan", None, None),
    ("contractor_wuhan", "王芳（项目部）", "enterprise", "contractor_wuhan", None, None),
    ("owner_yichang", "刘洋（设备部）", "enterprise", "owner_yichang", None, None),
    ("reg_wuhan", "陈静（武汉市建设工程安全监督站）", "regulator", None, "city", "420100"),
    ("reg_yichang", "赵磊（宜昌市建设工程安全监督站）", "regulator", None, "city", "420500"),
    ("reg_province", "周敏（湖北省住房和城乡建设厅）", "regulator", None, "province", "420000"),
)


def seed_demo_data(session: Session, *, password: str) -> int:
    """Idempotent: existing accounts and enterprises are left as they are."""
    enterprises = {}
    for key, (uscc_region, org, name, region, roles, integrated) in DEMO_ENTERPRISES.items():
        uscc = _uscc(uscc_region, org)
        ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        if ent is None:
            ent = Enterprise(name=name, uscc=uscc, region_code=region, status="approved",
                             integrated=integrated, role_rows=[EnterpriseRole(role=r) for r in roles])
            session.add(ent)
        enterprises[key] = ent
    session.flush()
    created = 0
    for username, display, kind, ent_key, level, region in DEMO_ACCOUNTS:
        if session.scalar(select(User).where(User.username == username)) is not None:
            continue
        session.add(User(username=username, display_name=display, kind=kind,
                         password_hash=hash_password(password),
                         enterprise_id=enterprises[ent_key].id if ent_key else None,
                         regulator_level=level, region_code=region))
        created += 1
    session.flush()
    return created
