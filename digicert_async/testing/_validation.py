"""Organizations and domains: listings, details, creation, validation and domain DCV."""

from __future__ import annotations

import re

from ._routing import (
    Answer,
    Call,
    Rejected,
    Routes,
    found,
    invalid,
    non_empty_text,
    page_window,
    required,
)
from ._state import FakeAccount, JSONDict
from ._state._domains import DOMAIN_METHODS, TOKEN_METHODS, StoredDomain, token_document

routes = Routes()

_COUNTRY = re.compile(r"[A-Za-z]{2}")
_ORGANIZATION_FIELDS = ("name", "address", "city", "state", "zip", "country", "telephone")
_CONTACT_FIELDS = ("first_name", "last_name", "email", "telephone")


def _paged(call: Call, key: str, items: list[JSONDict]) -> Answer:
    offset, limit, problems = page_window(call)
    if problems:
        raise Rejected(400, *problems)
    page = items[offset : offset + limit]
    return 200, {key: page, "page": {"total": len(items), "limit": limit, "offset": offset}}


def _flag(call: Call, name: str) -> bool:
    return call.query.get(name, "").lower() in ("true", "1")


# --------------------------------------------------------------------------- organizations


@routes.get("/organization")
def list_organizations(store: FakeAccount, call: Call) -> Answer:
    books = store.organizations
    return _paged(call, "organizations", [books.document(i) for i in sorted(books)])


@routes.get(r"/organization/{organization_id:\d+}")
def organization_info(store: FakeAccount, call: Call) -> Answer:
    org_id = int(call.params["organization_id"])
    found(store.organizations.get(org_id), "organization", org_id)
    return 200, store.organizations.document(org_id)


@routes.post("/organization")
def create_organization(store: FakeAccount, call: Call) -> Answer:
    body = call.json_object()
    problems = [required(f) for f in _ORGANIZATION_FIELDS if not non_empty_text(body.get(f))]
    if non_empty_text(body.get("country")) and not _COUNTRY.fullmatch(body["country"]):
        problems.append(invalid("country", "country must be a two-letter country code."))
    contact = body.get("organization_contact")
    if not isinstance(contact, dict):
        problems.append(required("organization_contact"))
    else:
        problems += [
            required(f"organization_contact.{f}")
            for f in _CONTACT_FIELDS
            if not non_empty_text(contact.get(f))
        ]
    if problems:
        raise Rejected(400, *problems)
    org_id = store.organizations.add(body["name"])
    store.organizations.details[org_id] = {
        key: body[key] for key in (*_ORGANIZATION_FIELDS, "assumed_name", "address2") if key in body
    } | {"organization_contact": dict(contact)}  # type: ignore[arg-type]
    for entry in body.get("validations") or []:
        if isinstance(entry, dict) and non_empty_text(entry.get("type")):
            store.organizations.submit(org_id, entry["type"], store.now())
    return 201, {"id": org_id}


@routes.post(r"/organization/{organization_id:\d+}/validation")
def submit_organization(store: FakeAccount, call: Call) -> Answer:
    org_id = int(call.params["organization_id"])
    found(store.organizations.get(org_id), "organization", org_id)
    entries = call.json_object().get("validations")
    if not isinstance(entries, list) or not entries:
        raise Rejected(400, required("validations"))
    for entry in entries:
        if not isinstance(entry, dict) or not non_empty_text(entry.get("type")):
            raise Rejected(400, invalid("validations", "each validation needs a type."))
    for entry in entries:
        store.organizations.submit(org_id, entry["type"], store.now())
    return 204, None


@routes.get(r"/organization/{organization_id:\d+}/validation")
def organization_validations(store: FakeAccount, call: Call) -> Answer:
    org_id = int(call.params["organization_id"])
    found(store.organizations.get(org_id), "organization", org_id)
    return 200, {"validations": store.organizations.document(org_id).get("validations", [])}


# --------------------------------------------------------------------------- domains


def _find_domain(store: FakeAccount, call: Call) -> StoredDomain:
    domain_id = int(call.params["domain_id"])
    return found(store.domains.get(domain_id), "domain", domain_id)


@routes.get("/domain")
def list_domains(store: FakeAccount, call: Call) -> Answer:
    book = store.domains
    status = call.query.get("filters[status]")
    search = call.query.get("filters[search]", "").lower().lstrip("%")
    validation = _flag(call, "include_validation")
    chosen = [
        book.document(d, store.now(), validation=validation)
        for d in sorted(book.values(), key=lambda d: d.id)
        if (status is None or ("active" if d.is_active else "inactive") == status)
        and search in d.name
    ]
    return _paged(call, "domains", chosen)


@routes.get(r"/domain/{domain_id:\d+}")
def domain_info(store: FakeAccount, call: Call) -> Answer:
    domain = _find_domain(store, call)
    return 200, store.domains.document(
        domain,
        store.now(),
        dcv=_flag(call, "include_dcv"),
        validation=_flag(call, "include_validation"),
    )


def _new_domain_problems(store: FakeAccount, body: JSONDict) -> list[tuple[str, str]]:
    problems = []
    if not non_empty_text(body.get("name")):
        problems.append(required("name"))
    elif any(d.name == body["name"].strip().lower() for d in store.domains.values()):
        problems.append(invalid("name", "the domain exists already."))
    organization = body.get("organization")
    org_id = organization.get("id") if isinstance(organization, dict) else None
    if not isinstance(org_id, int) or org_id not in store.organizations:
        problems.append(invalid("organization.id", "no such organization."))
    types = body.get("validations")
    if not isinstance(types, list) or not types:
        problems.append(required("validations"))
    elif not all(isinstance(t, dict) and non_empty_text(t.get("type")) for t in types):
        problems.append(invalid("validations", "each validation needs a type."))
    if body.get("dcv_method", "email") not in DOMAIN_METHODS:
        problems.append(invalid("dcv_method", "unknown DCV method."))
    return problems


@routes.post("/domain")
def add_domain(store: FakeAccount, call: Call) -> Answer:
    body = call.json_object()
    problems = _new_domain_problems(store, body)
    if problems:
        raise Rejected(400, *problems)
    org_id: int = body["organization"]["id"]
    domain = store.domains.add(
        body["name"],
        {"id": org_id, "name": store.organizations[org_id]},
        store.now(),
        types=[t["type"] for t in body["validations"]],
        method=body.get("dcv_method", "email"),
    )
    answer: JSONDict = {"id": domain.id}
    if domain.dcv_method in TOKEN_METHODS:
        answer["dcv_token"] = token_document(domain)
    return 201, answer


@routes.put(r"/domain/{domain_id:\d+}/activate")
def activate_domain(store: FakeAccount, call: Call) -> Answer:
    _find_domain(store, call).is_active = True
    return 204, None


@routes.put(r"/domain/{domain_id:\d+}/deactivate")
def deactivate_domain(store: FakeAccount, call: Call) -> Answer:
    _find_domain(store, call).is_active = False
    return 204, None


@routes.put(r"/domain/{domain_id:\d+}/dcv/method")
def domain_dcv_method(store: FakeAccount, call: Call) -> Answer:
    domain = _find_domain(store, call)
    method = call.json_object().get("dcv_method")
    if method not in DOMAIN_METHODS:
        raise Rejected(400, invalid("dcv_method", "unknown DCV method."))
    if method == domain.dcv_method:
        return 200, {}
    domain.dcv_method = method
    if method not in TOKEN_METHODS:
        return 200, {}
    store.domains.new_token(domain, store.now())
    return 200, {"dcv_token": token_document(domain)}


@routes.put(r"/domain/{domain_id:\d+}/dcv/validate-token")
def check_domain_dcv(store: FakeAccount, call: Call) -> Answer:
    domain = _find_domain(store, call)
    if domain.token is not None and store.dns.proves(domain.dcv_method, domain.name, domain.token):
        store.domains.passed(domain, store.now())
        store.lifecycle.domains_passed()
    valid = store.domains.valid(domain)
    return 200, {
        "status": "active" if valid else "pending",
        "dcv_status": "complete" if valid else "pending",
        "token": domain.token,
    }
