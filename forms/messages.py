"""Validation messages in the user's language (Simplified Chinese first, English available).

The web layer sets `current_locale` per request; schemas are instantiated after that, so their
messages come out in the right language. Kept free of Flask so services and workers can use it.
"""
from contextvars import ContextVar

current_locale: ContextVar[str] = ContextVar("craneflow_locale", default="zh_CN")

MESSAGES = {
    "required": ("此项为必填项。", "This field is required."),
    "null": ("此项不能为空。", "This field may not be empty."),
    "invalid": ("格式不正确。", "Invalid value."),
    "json_object": ("请求体应为 JSON 对象。", "The request body must be a JSON object."),
    "unknown": ("不接受的字段。", "Unknown field."),
    "type_string": ("应为文本。", "Must be text."),
    "type_integer": ("应为整数。", "Must be a whole number."),
    "type_number": ("应为数字。", "Must be a number."),
    "type_date": ("应为日期（YYYY-MM-DD）。", "Must be a date (YYYY-MM-DD)."),
    "type_list": ("应为列表。", "Must be a list."),
    "type_boolean": ("应为是或否。", "Must be yes or no."),
    "too_large": ("数值过大。", "Number too large."),
    "length_between": ("长度应在 {min} 到 {max} 个字符之间。", "Length must be between {min} and {max} characters."),
    "length_max": ("长度不能超过 {max} 个字符。", "Length must be at most {max} characters."),
    "range_between": ("应在 {min} 到 {max} 之间。", "Must be between {min} and {max}."),
    "range_min": ("不能小于 {min}。", "Must be at least {min}."),
    "one_of": ("应为以下之一：{choices}。", "Must be one of: {choices}."),
    "date_future": ("日期不能晚于今天。", "The date cannot be in the future."),
    "purchase_before_manufacture": ("购置日期不能早于出厂日期。", "The purchase date cannot be before the manufacture date."),
    "uscc_length": ("统一社会信用代码应为 18 位。", "A unified social credit code has 18 characters."),
    "uscc_charset": ("统一社会信用代码含有不允许的字符（不使用 I、O、S、V、Z）。",
                     "The unified social credit code has characters that are not allowed (I, O, S, V, Z are never used)."),
    "uscc_check_digit": ("统一社会信用代码校验位错误。", "The check character of the unified social credit code is wrong."),
    "resident_id_format": ("身份证号码应为 18 位（最后一位可为 X）。", "A resident ID number has 18 characters (the last may be X)."),
    "resident_id_birth_date": ("身份证号码中的出生日期无效。", "The birth date in the resident ID number is not valid."),
    "resident_id_check_digit": ("身份证号码校验位错误。", "The check digit of the resident ID number is wrong."),
    "phone_invalid": ("请输入 11 位手机号或带区号的固定电话。", "Enter an 11-digit mobile number or a landline with its area code."),
    "date_expired": ("证件已过有效期。", "This certificate has expired."),
    "licence_format": ("安全生产许可证编号格式应为（鄂）JZ安许证字〔YYYY〕NNNNNN。", "The safety production licence number must look like (鄂)JZ安许证字〔YYYY〕NNNNNN."),
    "staff_certificate_format": ("安管人员证书编号格式应为 鄂建安C1(2015)0000001。", "A safety manager certificate number looks like 鄂建安C1(2015)0000001."),
    "installer_needs_licence": ("安装单位须填写资质证书和安全生产许可证。", "An installer must give its qualification certificate and safety production licence."),
    "roles_required": ("请至少选择一项企业类型。", "Choose at least one enterprise role."),
    "uscc_taken": ("该统一社会信用代码已注册。", "This unified social credit code is already registered."),
    "username_taken": ("该用户名已被使用。", "This username is taken."),
    "password_policy": ("密码至少 10 位，且须包含字母和数字。", "The password needs at least 10 characters with letters and digits."),
    "uscc_mismatch": ("统一社会信用代码须与注册账户一致。", "The unified social credit code must match the registered account."),
    "certificate_category_kind": ("该类别不属于所选证书类型。", "This category does not belong to the chosen certificate type."),
    "certificate_number_format": ("证书编号格式不正确。", "The certificate number has the wrong format."),
    "certificate_category_mismatch": ("证书编号中的类别与所选类别不一致。", "The category in the certificate number differs from the chosen category."),
    "certificate_unknown_kind": ("未知的证书类型。", "Unknown certificate type."),
    "certificate_valid_before_issue": ("有效期不能早于发证日期。", "The validity cannot end before the issue date."),
    "certificate_under_age": ("发证时持证人未满 18 周岁。", "The holder was under 18 when the certificate was issued."),
    "person_exists": ("本单位已登记该身份证号的人员。", "A person with this ID number is already registered by your enterprise."),
    "certificate_exists": ("该证书编号已登记。", "This certificate number is already registered."),
    "transferee_required": ("产权转让须填写受让单位名称和统一社会信用代码。", "A transfer needs the transferee's name and credit code."),
    "crane_not_yours": ("该设备不存在或不属于本单位。", "This crane does not exist or is not yours."),
    "cancellation_running": ("该设备已有注销申请在办理中。", "A cancellation of this crane is already under way."),
    "project_code_format": ("项目编号应为 6–32 位字母、数字或连字符。", "The project code must be 6–32 letters, digits or hyphens."),
    "end_before_start": ("完成日期不能早于开始日期。", "The finish cannot be before the start."),
    "supervisor_is_user": ("监理单位不能与使用单位相同。", "The supervision firm cannot be the user itself."),
    "findings_required": ("检验不合格时必须填写不合格项。", "Failed inspections must list the findings."),
    "party_unknown": ("未找到该统一社会信用代码的企业。", "No enterprise is registered with this credit code."),
    "party_not_approved": ("该企业的申报尚未通过审核。", "This enterprise's filing is not approved."),
    "party_lacks_role": ("该企业未申报为{role}。", "This enterprise has not declared the role: {role}."),
    "crane_not_visible": ("该设备不存在或未备案。", "This crane does not exist or is not filed."),
    "crane_not_leased": ("该设备的产权单位不是本单位，且本单位不是一体化企业；请由产权单位委托的安装单位办理。",
                         "The crane is not yours; file the notice as the installer the owner engaged."),
    "installer_qualification": ("安装单位的资质证书缺失或在计划安装日期已过期。",
                                "The installer's qualification certificate is missing or expired on the planned start date."),
    "installer_licence": ("安装单位的安全生产许可证缺失或在计划安装日期已过期。",
                          "The installer's safety production licence is missing or expired on the planned start date."),
    "notice_too_late": ("告知应在安装前至少 {days} 个工作日提交；最早可于 {earliest} 开始安装。",
                        "Notices must be lodged at least {days} working days before the work; the earliest start is {earliest}."),
    "expert_review_required": ("起重量 300 kN 及以上或安装高度 200 m 及以上属超过一定规模的危大工程，须上传专家论证报告且结论为通过或修改后通过。",
                               "Capacity ≥ 300 kN or height ≥ 200 m: an expert review record concluding 'passed' is required."),
    "crew_certificate_unknown": ("证书 {number} 未在本单位人员库中登记，或与姓名不符。",
                                 "Certificate {number} is not in your personnel registry or does not match the name."),
    "crew_certificate_expired": ("证书 {number} 在计划作业日期已过期。", "Certificate {number} has expired by the planned date."),
    "crew_missing_categories": ("作业人员缺少有效的特种作业证书：{categories}。",
                                "The crew lacks valid special-operations certificates: {categories}."),
    "notice_running": ("该设备已有安装或拆卸告知在办理中。", "A notice for this crane is already under way."),
    "project_elsewhere": ("项目编号 {code} 已登记为其他工程或其他地区。",
                          "Project code {code} is registered for another project or region."),
    "checklist_item_failed": ("验收合格须逐项确认此检查项。", "Acceptance requires this checklist item to be confirmed."),
    "verticality_exceeded": ("垂直度偏差超过 {limit}‰，不能验收合格。", "Verticality deviation exceeds {limit}‰; the crane cannot be accepted."),
    "crane_not_on_your_project": ("该设备未安装在本单位承建的工程上。", "This crane is not installed on a project of yours."),
    "registration_running": ("该设备已有使用登记在办理中。", "A use registration of this crane is already under way."),
    "crane_changed": ("不能更换申请的设备。", "The crane of an application cannot be changed."),
    "major_item_needs_major_grade": ("符合重大隐患判定项的隐患应定为重大隐患。", "A hazard matching a major-hazard item must be graded major."),
    "major_item_needs_crane": ("起重机械重大隐患须填写涉及设备的备案编号。", "A crane major hazard must name the crane's record number."),
    "hazards_need_notice": ("发现隐患时须下发整改通知书、停工整改通知书或停止使用指令。",
                            "Hazards were found: issue a rectification, stop-work or stop-use notice."),
    "notice_needs_hazards": ("下发整改文书须至少登记一项隐患。", "A notice needs at least one hazard."),
    "major_hazard_needs_stop": ("存在重大隐患的，应下发停工整改通知书或责令停止使用。",
                                "Major hazards require a stop-work notice or a stop-use order."),
    "refusal_to_sign_note": ("有单位拒绝签字的，须在检查情况中记录。", "Record who refused to sign in the findings."),
    "new_deadline_required": ("复查不合格的，须重新确定整改期限。", "A failed re-inspection needs a new deadline."),
    "project_not_in_jurisdiction": ("本辖区内没有该项目编号的工程。", "No project with this code in your jurisdiction."),
    "crane_not_on_project": ("设备 {record} 不在该工程上。", "Crane {record} is not on this project."),
    "deadline_too_long": ("{instrument}的整改期限不能超过 {days} 日。", "The deadline of a {instrument} may not exceed {days} days."),
    "hazard_not_open": ("第 {no} 项隐患不存在或已销项。", "Hazard {no} does not exist or is already closed."),
    "hazard_answered_twice": ("第 {no} 项隐患重复回复。", "Hazard {no} is answered twice."),
    "hazards_unanswered": ("以下隐患尚未回复：第 {numbers} 项。", "These hazards are not answered: {numbers}."),
    "manager_certificate": ("项目负责人须持有效的安全生产考核合格证书（B 证）并在本单位人员库中登记。",
                            "The project manager needs a valid B certificate in your personnel registry."),
    "region_unknown": ("未知的行政区划代码。", "Unknown administrative division code."),
    "reason_required": ("退回补正或不予备案时必须填写理由。", "A reason is required to return or reject."),
    "attachment_unknown": ("附件不存在或无权使用。", "The attachment does not exist or is not yours to use."),
    "document_missing": ("缺少必需的材料：{doc}。", "A required document is missing: {doc}."),
    "assessment_required": ("该设备已超过 JGJ/T 189 规定的评估年限，须上传安全评估报告。",
                            "This crane is over the JGJ/T 189 age threshold: a safety assessment report is required."),
    "duplicate_crane": ("同一制造厂家、型号和出厂编号的设备已备案或正在审核（{record}）。",
                        "A crane with the same manufacturer, model and factory serial number is already filed or under review ({record})."),
    "rated_moment_required": ("塔式起重机须填写额定起重力矩。", "A tower crane needs its rated moment."),
    "hoist_drive_required": ("施工升降机须选择驱动型式。", "A construction hoist needs its drive type."),
    "file_too_large": ("文件过大（上限 {limit}）。", "The file is too large (limit {limit})."),
    "file_type": ("不支持的文件类型；请上传 PDF、JPEG 或 PNG。", "Unsupported file type: upload a PDF, JPEG or PNG."),
    "file_empty": ("文件为空。", "The file is empty."),
    "process_unknown": ("未知的业务流程。", "Unknown procedure."),
    "enterprise_not_approved": ("企业申报尚未通过审核，不能发起此业务。",
                                "Your enterprise filing is not approved yet, so this procedure cannot be started."),
    "project_cranes_on_site": ("尚有设备安装在该工程上（{cranes}），须先办理拆卸告知，才能标记为完工。",
                               "Cranes are still installed on this project ({cranes}): lodge their dismantling notices before marking it completed."),
    "project_open_hazards": ("该工程尚有 {n} 项隐患未整改销项，不能标记为完工。",
                             "This project has {n} open hazard(s) not yet closed, so it cannot be marked completed."),
    "project_status_not_permitted": ("只有工程所在地的主管部门可以变更项目状态。",
                                     "Only the authority of the project's region may change its status."),
}

DOCUMENT_NAMES = {
    "manufacturing_licence": ("特种设备制造许可证", "manufacturing licence"),
    "product_certificate": ("产品合格证", "product certificate"),
    "supervision_certificate": ("制造监督检验证明", "manufacturing supervision inspection certificate"),
    "ownership_proof": ("产权证明（购销合同、发票）", "proof of ownership (contract, invoice)"),
    "assessment_report": ("安全评估报告", "safety assessment report"),
    "photo": ("设备照片", "photo"),
    "business_licence": ("营业执照", "business licence"),
    "qualification_certificate": ("资质证书", "qualification certificate"),
    "safety_licence": ("安全生产许可证", "safety production licence"),
    "other": ("其他材料", "other documents"),
}


def _pick(pair: tuple[str, str], locale: str | None = None) -> str:
    locale = locale or current_locale.get()
    return pair[0] if locale.startswith("zh") else pair[1]


def pick(pair: tuple[str, str] | None) -> str:
    """The request language's half of a (zh, en) pair; "" for none."""
    return _pick(pair) if pair else ""


def t(key: str, locale: str | None = None, **params) -> str:
    text = _pick(MESSAGES[key], locale)
    return text.format(**params) if params else text


def document_name(doc_type: str, locale: str | None = None) -> str:
    return _pick(DOCUMENT_NAMES.get(doc_type, (doc_type, doc_type)), locale)
