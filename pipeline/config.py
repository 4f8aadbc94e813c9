"""Configuration from DOCPOST_* environment variables or a `.env` file (CONTRACT.md)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_LOCALES = ("en_US", "nb_NO")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCPOST_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///docpost.db"
    # Empty means the embedded broker: no server needed (see tasks.app).
    broker_url: str = ""
    documents_dir: str = "./documents"
    locale: str = "en_US"
    company_name: str = "Contoso Entertainment System USA"
    company_address: str = "1 Microsoft Way, Redmond, WA 98052"
    # Beat's bulk invoicing schedule, crontab fields "minute hour day month weekday".
    bulk_invoice_cron: str = "0 2 * * *"
    # Beat's release of deferred revenue (B11), as of the slot's date; once per date.
    revenue_recognition_cron: str = "30 2 * * *"
    max_attempts: int = 5
    # The actor scheduled work (bulk invoicing, revenue release) runs as; it needs the duty
    # post_sales_documents.
    system_actor: str = "erp"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
