"""Configuration from DOCPOST_* environment variables or a `.env` file (CONTRACT.md).

A value the pipeline cannot work with is refused when the settings are first read, at the
start of every entry point (CLI commands, `docpost worker`/`beat`, `docpost serve`,
`create_app`), with a message naming the variable: an unsupported DOCPOST_LOCALE used to be
found only while rendering, after the posting had committed, leaving its PDF pending for ever.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from docpost.reports.labels import DEFAULT_LOCALE, SUPPORTED_LOCALES, normalize_locale

__all__ = ["SUPPORTED_LOCALES", "ConfigurationError", "Settings", "get_settings"]


class ConfigurationError(ValueError):
    """A DOCPOST_* setting that cannot be used; the message names the variable(s)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCPOST_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///docpost.db"
    # Empty means the embedded broker: no server needed (see tasks.app).
    broker_url: str = ""
    documents_dir: str = "./documents"
    locale: str = DEFAULT_LOCALE
    # The letterhead only for a catalog without a company (the USMF example has none): the
    # catalog's company (M6) is the seller on every document once one is loaded.
    company_name: str = "Contoso Entertainment System USA"
    company_address: str = "1 Microsoft Way, Redmond, WA 98052"
    # Beat's bulk invoicing schedule, crontab fields "minute hour day month weekday".
    bulk_invoice_cron: str = "0 2 * * *"
    # Beat's release of deferred revenue (B11), as of the slot's date; once per date.
    revenue_recognition_cron: str = "30 2 * * *"
    max_attempts: int = 5
    # The actor scheduled work (bulk invoicing, revenue release) runs as; it needs the duties
    # post_sales_documents and recognize_revenue. `docpost load` and `recognize` act as it too.
    system_actor: str = "erp"
    # The IANA time zone "today" is in (pipeline.clock: posting dates, the latest date revenue
    # may be released to) only while the catalog has no company: a loaded company's own
    # `time_zone` (M6, P1) is used instead wherever a session is at hand (UnitOfWork.today).
    company_time_zone: str = "UTC"
    # E2: a folder holding the official rules as ../einvoice does (its two XSLTs, in it or in
    # its xslt/); when set, every e-invoice is checked before it is stored and one with a
    # fatal finding is stored `invalid`. Empty: e-invoices are stored unchecked.
    einvoice_rules: str = ""
    # E4: invoice and credit note PDFs as PDF/A-3b with their e-invoice XML attached (the
    # journals E1 gives one), for archiving. Changes new renders only: a stored PDF's bytes
    # never change (D6).
    archive_pdf: bool = False
    # Observability (issue 18, pipeline.logs and pipeline.metrics). The log format of every
    # process: `text` for people, `json` (one object per line) for a log collector.
    log_format: str = "text"
    # The root log level; empty: INFO for the worker, beat and the HTTP service, WARNING for
    # other CLI commands (their stderr is for their own messages).
    log_level: str = ""
    # A worker's Prometheus exporter (tasks.observability): the port its main process serves
    # /metrics on, summed over its pool processes; unset: no exporter.
    metrics_port: int | None = None
    # `docpost serve` behind a reverse proxy: the proxies (IP addresses or networks, comma
    # separated, or `*`) whose X-Forwarded-Proto and X-Forwarded-For are believed, so the
    # 202's Location and the Secure cookie follow the public scheme. Empty: none (the headers
    # are ignored: any client could send them).
    forwarded_allow_ips: str = ""
    # The back office's session cookies are signed with this (pipeline/entrypoints/http/
    # session.py); empty: each server process draws its own at start-up, so sign-ins end on a
    # restart and do not carry over between several server processes.
    session_secret: str = ""

    @field_validator("locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        # The locales the documents have labels for (reports.labels), "nb-NO" read as nb_NO;
        # empty (docker-compose passes DOCPOST_LOCALE through) is the default, as in
        # reports.labels.locale_from_env.
        return normalize_locale(value or DEFAULT_LOCALE)

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = (value or "text").strip().lower()
        if value not in ("text", "json"):
            raise ValueError(f"{value!r} is not a log format: use text or json")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value and value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"{value!r} is not a log level: use DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _metrics_port(cls, value: object) -> object:
        # Empty (docker-compose passes an unset variable through as ""): no exporter.
        return None if value == "" else value

    @field_validator("metrics_port")
    @classmethod
    def _port_range(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value < 65536:
            raise ValueError(f"{value} is not a TCP port (1 to 65535)")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        # Refused at start-up: uvicorn would otherwise ignore an address it cannot read.
        import ipaddress

        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            if part == "*":
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an IP address or network; write the proxies' addresses "
                    "comma separated (e.g. 127.0.0.1,10.0.0.0/8), or * for any"
                ) from None
        return ",".join(parts)

    @field_validator("company_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        if value == "UTC":
            return value  # needs no time zone database (pipeline.clock)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Oslo, America/New_York)"
            ) from None
        return value

    @field_validator("einvoice_rules")
    @classmethod
    def _rules_folder(cls, value: str) -> str:
        # Refused at start-up rather than on the first e-invoice after a posting committed.
        # The stylesheets are compiled later, once per process that validates (Saxon: after
        # any fork), not here: every entry point reads the settings.
        from docpost.reports.einvoice.validation import RulesNotFound, rule_files

        if not value:
            return value
        try:
            rule_files(value)
        except RulesNotFound as exc:
            raise ValueError(
                f"{exc}; a folder holding CEN-EN16931-UBL.xslt and PEPPOL-EN16931-UBL.xslt "
                "(or an xslt/ folder with them), as ../shared/einvoice does"
            ) from None
        return value


def settings_error(error: ValidationError) -> ConfigurationError:
    """One line per refused variable, e.g. "DOCPOST_LOCALE: unsupported locale 'de_DE':
    supported locales are en_US, nb_NO"."""
    lines = []
    for problem in error.errors():
        name = "DOCPOST_" + "_".join(str(part) for part in problem["loc"]).upper()
        cause = (problem.get("ctx") or {}).get("error")
        lines.append(f"{name}: {cause if cause is not None else problem['msg']}")
    return ConfigurationError("; ".join(lines))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings; ConfigurationError when a variable is refused (not cached: every caller
    sees the refusal)."""
    try:
        return Settings()
    except ValidationError as exc:
        raise settings_error(exc) from None
