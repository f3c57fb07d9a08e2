"""A transaction Bundle of mapped resources: one entry per resource, references resolved.

FHIR's REST API (R4 http.html, "transaction") lets a client send many
resources in one Bundle of type ``transaction`` that the server applies all
or nothing. Each entry here has a ``fullUrl`` ``urn:uuid:<id>`` (the ids
:func:`medlab.fhir.from_v2` derives from v2 identifiers, so references between
entries resolve), and a request ``POST <type>`` with ``ifNoneExist`` on the
resource's first identifier (a *conditional create*: a server that already
knows that patient or order does not make a second one).

Two messages about the same patient or order map to resources with the same id;
the Bundle holds one, merged element by element: the later message's elements win
(the ORU's completed status over the ORM's active one) and elements only an earlier
message carried are kept (the ORM's authoredOn and encounter). A choice element
(``occurrence[x]``) is one element: the later message's choice replaces the earlier one. A reference to a resource that is not in the
Bundle keeps only its identifier (a *logical* reference), and one that carries
only an identifier is pointed at the entry that has it (the ImagingStudy's
subject and order, found by patient ID and accession number).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from medlab.errors import MedlabError


def bundle(resources: Iterable[Any]) -> Any:
    """A transaction Bundle (fhir.resources R4B) of ``resources`` (lists are flattened)."""
    from medlab.fhir.v2 import model

    flat: list[Any] = []
    for item in resources:
        flat.extend(item if isinstance(item, list) else [item])
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for res in flat:
        if not hasattr(res, "model_dump_json"):
            raise MedlabError(
                f"bundle() takes fhir.resources objects, not {type(res).__name__}",
                where="bundle",
                fix="Pass what medlab.fhir.from_v2 or imaging_study return.",
            )
        data = json.loads(res.model_dump_json(exclude_none=True))
        if not data.get("id"):
            raise MedlabError(
                f"A {data['resourceType']} without an id cannot be referenced in a Bundle",
                where=data["resourceType"],
                fix="Give it an id (from_v2 and imaging_study do).",
            )
        key = (data["resourceType"], data["id"])
        by_key[key] = _merge(by_key.get(key, {}), data, type(res))
    present = {f"urn:uuid:{rid}" for _, rid in by_key}
    index = _identifier_index(by_key.values())
    for data in by_key.values():
        _resolve(data, present, index)
    entries = [
        {
            "fullUrl": f"urn:uuid:{rid}",
            "resource": data,
            "request": _request(kind, data),
        }
        for (kind, rid), data in by_key.items()
    ]
    return model("Bundle").model_validate(
        {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    )


def _merge(earlier: dict[str, Any], later: dict[str, Any], cls: Any) -> dict[str, Any]:
    """``later``'s elements over ``earlier``'s; a choice element (``occurrence[x]``) counts as one."""
    fields = cls.model_fields
    choice = {
        name: (fields[name].json_schema_extra or {}).get("one_of_many")
        for name in fields
        if isinstance(fields[name].json_schema_extra, dict)
    }
    replaced = {choice.get(key) for key in later} - {None}
    kept = {k: v for k, v in earlier.items() if choice.get(k) not in replaced}
    return {**kept, **later}


def _request(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    request = {"method": "POST", "url": kind}
    first = (data.get("identifier") or [None])[0]
    if first and first.get("value"):
        system = first.get("system")
        request["ifNoneExist"] = f"identifier={system + '|' if system else ''}{first['value']}"
    return request


def _identifier_index(resources: Iterable[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(resource type, identifier value) -> urn of the resource that carries it."""
    found: dict[tuple[str, str], str] = {}
    for data in resources:
        for ident in data.get("identifier") or []:
            if ident.get("value"):
                found.setdefault((data["resourceType"], ident["value"]), f"urn:uuid:{data['id']}")
    return found


def _resolve(node: Any, present: set[str], index: dict[tuple[str, str], str]) -> None:
    if isinstance(node, list):
        for item in node:
            _resolve(item, present, index)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("reference")
    if isinstance(ref, str) and ref.startswith("urn:uuid:") and ref not in present:
        if not node.get("identifier"):
            raise MedlabError(
                f"A reference to {node.get('type', 'a resource')} {ref} has no entry in the Bundle",
                where=ref,
                fix="Bundle the resource it points to as well (e.g. the Patient of the message).",
            )
        del node["reference"]  # keep the logical reference (identifier)
    elif ref is None and node.get("type") and isinstance(node.get("identifier"), dict):
        target = index.get((node["type"], node["identifier"].get("value", "")))
        if target:
            node["reference"] = target
    for key, value in node.items():
        if key != "identifier":
            _resolve(value, present, index)
