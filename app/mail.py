"""Outgoing mail (SMTP when MAIL_SERVER is configured, otherwise written to the log) and the links
such mails carry, built on BASE_URL rather than on the request's Host header (which a client forges)."""
import smtplib
from email.message import EmailMessage

from flask import after_this_request, current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """Absolute URL of `endpoint` for use outside the site (mail, link to copy)."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def send_mail(to: str, subject: str, body: str) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        current_app.logger.warning("Courriel (MAIL_SERVER non configuré) à %s : %s\n%s", to, subject, body)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def send_mail_after_response(to: str, subject: str, body: str) -> None:
    """Send once the response has gone out, so the SMTP exchange neither delays nor shapes it (a reset
    request must look the same whether or not the account exists). Outside a request: sent at once."""
    if not has_request_context():
        send_mail(to, subject, body)
        return
    app = current_app._get_current_object()

    def deliver():
        with app.app_context():
            try:
                send_mail(to, subject, body)
            except (OSError, smtplib.SMTPException):
                app.logger.exception("Envoi du courriel à %s impossible", to)

    @after_this_request
    def _schedule(response):
        response.call_on_close(deliver)
        return response
