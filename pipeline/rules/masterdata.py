"""Master data rules (DOMAIN.md M2, M3, M4) as pure functions."""

from __future__ import annotations

from docpost.pipeline.errors import Rejection

INVENTORY_SERIAL_OPTIONS = (
    "serial_primary_stocking",
    "serial_physical_inventory",
    "serial_financial_inventory",
)


def normalise_tracking_group(options: dict[str, bool]) -> tuple[dict[str, bool], list[str]]:
    """M2: serials active in the sales process imply serial number control and clear every
    other serial selection except blank issue allowed. Returns the options and what changed."""
    if not options.get("serial_active_in_sales_process"):
        return dict(options), []
    normalised = dict(options)
    changes = []
    if not normalised.get("serial_number_control"):
        normalised["serial_number_control"] = True
        changes.append("serial_number_control set")
    for option in INVENTORY_SERIAL_OPTIONS:
        if normalised.get(option):
            normalised[option] = False
            changes.append(f"{option} cleared")
    return normalised, changes


def check_catch_weight_tracking(
    item: str, catch_weight: bool, group: str | None, group_active_in_sales: bool
) -> None:
    """M3/S12: a catch-weight item may not have serials active in the sales process."""
    if catch_weight and group_active_in_sales:
        raise Rejection(
            "catalog.catch_weight_serials",
            f"item {item} is a catch-weight item and cannot use tracking group {group}, whose "
            "serials are active in the sales process",
            rule="M3",
            item=item,
            tracking_group=group,
        )


def check_bom_component(bundle: str, component: str, component_is_bundle: bool) -> None:
    """M4 (beyond): a component may not itself be a bundle."""
    if component_is_bundle:
        raise Rejection(
            "catalog.nested_bundle",
            f"bundle {bundle}: component {component} is itself a bundle; bundles do not nest",
            rule="M4",
        )
    if component == bundle:
        raise Rejection(
            "catalog.nested_bundle",
            f"bundle {bundle} cannot be a component of itself",
            rule="M4",
        )
