"""One place that turns domain errors and HTTP errors into JSON (API) or pages (browser)."""
import logging

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, CraneFlowError, DefinitionInvalid, InvalidInput, NotFound, NotPermitted
from forms.messages import localized_problems

from .extensions import db

log = logging.getLogger("craneflow.web")

STATUS = {NotFound: 404, NotPermitted: 403, Conflict: 409, InvalidInput: 422, DefinitionInvalid: 422}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _status_of(exc: CraneFlowError) -> int:
    for cls, status in STATUS.items():
        if isinstance(exc, cls):
            return status
    return 400


def _message(status: int, description: str | None = None) -> str:
    return {
        400: _("请求无效。") if description != "csrf" else _("页面已过期，请刷新后重试。"),
        401: _("请先登录。"),
        403: _("您无权执行此操作。"),
        404: _("未找到。"),
        405: _("不支持的请求方法。"),
        409: _("该事项已被处理或状态已变化。"),
        413: _("上传的文件过大。"),
        422: _("提交的内容有误，请按提示修改。"),
        429: _("请求过于频繁，请稍后再试。"),
    }.get(status, _("服务器内部错误。"))


def init_app(app: Flask) -> None:
    @app.errorhandler(CraneFlowError)
    def domain_error(exc: CraneFlowError):
        db.session.rollback()
        status = _status_of(exc)
        body = {"error": exc.code, "message": exc.message if status != 422 else _message(422)}
        if isinstance(exc, InvalidInput):
            body["errors"] = exc.errors
        if isinstance(exc, DefinitionInvalid):
            body["problems"] = localized_problems(exc.problems)
        if wants_json():
            return jsonify(body), status
        return render_template("error.html", status=status, message=body["message"],
                               detail=exc.message), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 401 and not wants_json():
            return redirect(url_for("auth.login", next=request.full_path))
        message = _message(exc.code, exc.description)
        if wants_json():
            return jsonify({"error": exc.name.lower().replace(" ", "_"), "message": message}), exc.code
        return render_template("error.html", status=exc.code, message=message, detail=None), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify({"error": "internal", "message": _message(500)}), 500
        return render_template("error.html", status=500, message=_message(500), detail=None), 500
