"""The public surface: exactly these names, each reporting ``digicert_async`` as its home."""

from __future__ import annotations

import pickle

import digicert_async as dc

EXPORTED = {
    # the client and its configuration
    "CertCentralClient", "RetryPolicy", "RateLimit", "RedisLimiterBackend", "Pacer", "Hooks",
    "Listing", "SqliteLimiterBackend",
    "converter", "__version__",
    # what a transport (CertCentralClient(transport=...)) is handed and returns
    "Request", "Response",
    # errors
    "DigiCertError", "ValidationError", "APIError", "BadRequestError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError", "RateLimitError", "ServerError", "TransportError",
    "ResponseError", "ErrorDetail", "ConfigurationError", "RouteNotFoundError", "RedirectError",
    "ClientClosedError", "DeadlineRefused", "LimiterUnavailableError", "InvalidKeyError",
    # events
    "CallStarted", "CallEnded", "RequestSent", "ResponseReceived", "RetryScheduled",
    "RetryDeclined", "RateLimitWait", "CooldownStarted", "PaceChanged", "JobStarted", "JobEnded",
    # bulk jobs
    "cancel_orders", "poll_orders", "CancelJob", "CancelOutcome", "CancelReport", "CancelResult",
    "OutcomeCounts", "OrderUpdate", "download_certificates", "DownloadJob", "CertificateDownload",
    "reissue_orders", "ReissueJob", "ReissueOutcome", "ReissueReport", "ReissueResult",
    # models and constants
    "CERTIFICATE_FORMATS", "CertificateChain", "CertificatePem", "ChainCertificate",
    "DOCUMENT_SIGNING_PRODUCTS", "ORDER_STATUSES", "TERMINAL_STATUSES", "OrderStatus", "StrFlag",
    "Container", "ContainerRef", "CustomField", "DocumentSigningCertificate",
    "DocumentSigningOrder", "Note", "NoteRequest", "Order", "OrderCertificate", "OrderCreated",
    "OrderPrice", "OrderRequestSummary", "OrganizationContact", "OrganizationId",
    "OrganizationRef", "OrganizationSummary", "Page", "Product", "RequestStatus", "ServerPlatform",
    "ServerPlatformRef", "ShipInfo", "StatusChange", "Subaccount", "SubaccountCertificate",
    "SubaccountOrder", "Subject", "UpdateStatusRequest", "User",
    # around an order: reissues, duplicates, revocations, approval requests
    "CS_PROVISIONING_METHODS", "REISSUE_SIGNATURE_HASHES", "REQUEST_STATUSES", "REQUEST_TYPES",
    "REVOCATION_REASONS", "ApprovalRequest", "DuplicateRequest", "IssuedCertificate",
    "ReissueCertificate", "ReissueRequest", "RevokeRequest", "UpdateRequestStatus",
    # ordering any product, and the products
    "DCV_METHODS", "ORDER_PRODUCTS", "PAYMENT_METHODS", "SIGNATURE_HASHES", "CertificateOrder",
    "CertificateDetails", "CertValidity", "OrderValidity", "Individual", "OrderContact",
    "OrderOrganization", "OrderShipInfo", "ProductDetails", "SignatureHashTypes", "HashType",
    "CaCert",
    # what DigiCert's answers carry beyond the fields above, and the parts they are made of
    "unknown_fields", "Contact", "CustomFieldValue", "OrderDomain", "Shipping", "ValidityPeriod",
    # webhooks: the account's webhook and the events it pushes
    "NOTIFICATION_FREQUENCIES", "WEBHOOK_EVENTS", "EventCertificate", "Webhook", "WebhookCreated",
    "WebhookEvent", "WebhookEventData", "WebhookSettings", "WebhookSettingsShown",
    "WebhookReceiver", "EventStream",
    # validation: organizations, domains, order DCV
    "NewOrganization", "NewOrganizationContact", "Organization", "OrganizationContactDetails",
    "OrganizationCreated", "Validation", "ValidationType", "DOMAIN_DCV_METHODS", "DcvExpiration",
    "DcvInvitation", "Domain", "DomainCreated", "DomainDcv", "DomainDcvCheck", "DomainDcvToken",
    "DomainOrganization", "NewDomain", "OrganizationRefById", "ORDER_DCV_METHODS",
    "ChangeDcvMethodRequest", "DcvRandomValue", "NameValidation", "OrderDcvCheck",
    "DcvInstructions", "DcvRecord", "dcv_instructions", "CheckSchedule", "DcvDriver", "DcvOutcome",
    "DcvRun", "validate_domains", "ValidateJob", "ValidateOutcome", "ValidateReport",
    "ValidateResult",
}  # fmt: skip


def test_exactly_the_public_names_are_exported() -> None:
    assert set(dc.__all__) == EXPORTED
    assert len(dc.__all__) == len(EXPORTED)  # none twice
    namespace: dict[str, object] = {}
    exec("from digicert_async import *", namespace)
    assert set(namespace) - {"__builtins__"} == EXPORTED


def test_public_classes_and_functions_live_in_digicert_async() -> None:
    for name in dc.__all__:
        value = getattr(dc, name)
        if callable(value):
            assert value.__module__ == "digicert_async", name
    assert repr(dc.ValidationError) == "<class 'digicert_async.ValidationError'>"


def test_public_objects_survive_pickling_by_their_public_path() -> None:
    for value in (dc.CancelOutcome.CANCELED, dc.RetryPolicy(max_attempts=2), dc.Order(id=1)):
        assert pickle.loads(pickle.dumps(value)) == value


def test_the_fixed_names_of_the_design_exist() -> None:
    client = dc.CertCentralClient("key")
    for method in ("add_note", "cancel", "update_status", "create_document_signing", "get",
                   "list", "list_notes", "status_changes", "create"):  # fmt: skip
        assert callable(getattr(client.orders, method)), method
    for method in ("list", "get"):
        assert callable(getattr(client.products, method)), method
    for method in ("get_order", "list_orders"):
        assert callable(getattr(client.subaccounts, method)), method
    for method in ("reissue", "duplicate", "list_reissues", "list_duplicates", "revoke"):
        assert callable(getattr(client.orders, method)), method
    for method in ("create", "get", "update", "send_test_event", "send_challenge",
                   "verify_challenge", "activate", "deactivate", "delete"):  # fmt: skip
        assert callable(getattr(client.webhooks, method)), method
    for method in ("revoke", "download", "download_for_order", "get_pem", "chain"):
        assert callable(getattr(client.certificates, method)), method
    for method in ("list", "get", "approve", "reject"):
        assert callable(getattr(client.requests, method)), method
    for method in ("list", "get", "create"):
        assert callable(getattr(client.organizations, method)), method
    for method in ("list", "get", "create", "activate", "deactivate"):
        assert callable(getattr(client.domains, method)), method
    for method in ("check_dcv", "dcv_random_value", "change_dcv_method", "resend_dcv_emails"):
        assert callable(getattr(client.orders, method)), method
    for function in (dc.dcv_instructions, dc.validate_domains, dc.DcvDriver):
        assert callable(function)
    assert client.rate_limit == dc.RateLimit()
