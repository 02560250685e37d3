"""Bulk jobs: cancel or reissue many orders concurrently, poll many orders cheaply,
download many orders' certificates.

Each accounts for every order it is given: a cancellation or reissue report lists
each input id exactly once, even when the job is cancelled or runs out of time, and
the poller tracks each id until it reaches a wanted status or the deadline.

The jobs run on one runner (``_runner``: concurrency, deadline, interruption,
streaming, accounting); each job is a module on top of it (``_cancel``, ``_reissue``,
``_poll``, ``_download``, ``_validate``); ``_outcomes`` holds what the reporting jobs share.
"""

from .._exports import present_as
from ._cancel import (
    CANCELABLE_STATUSES,
    CancelJob,
    CancelOutcome,
    CancelReport,
    CancelResult,
    OutcomeCounts,
    cancel_orders,
)
from ._common import stops_a_job as stops_a_job
from ._download import CertificateDownload, DownloadJob, download_certificates
from ._poll import NOT_FOUND_STATUS as NOT_FOUND_STATUS  # the command line's, and the tests'
from ._poll import UNREADABLE_LOOKS as UNREADABLE_LOOKS
from ._poll import OrderUpdate, poll_orders
from ._reissue import (
    REISSUABLE_STATUSES,
    ReissueJob,
    ReissueOutcome,
    ReissueReport,
    ReissueResult,
    reissue_orders,
)
from ._validate import (
    ValidateJob,
    ValidateOutcome,
    ValidateReport,
    ValidateResult,
    validate_domains,
)

__all__ = [
    "CANCELABLE_STATUSES",
    "REISSUABLE_STATUSES",
    "CancelJob",
    "CancelOutcome",
    "CancelReport",
    "CancelResult",
    "CertificateDownload",
    "DownloadJob",
    "OrderUpdate",
    "OutcomeCounts",
    "ReissueJob",
    "ReissueOutcome",
    "ReissueReport",
    "ReissueResult",
    "ValidateJob",
    "ValidateOutcome",
    "ValidateReport",
    "ValidateResult",
    "cancel_orders",
    "download_certificates",
    "poll_orders",
    "reissue_orders",
    "validate_domains",
]

# The jobs report this module as theirs, as before it became a package.
for _public in (
    CancelJob,
    CancelOutcome,
    CancelReport,
    CancelResult,
    CertificateDownload,
    DownloadJob,
    OrderUpdate,
    OutcomeCounts,
    cancel_orders,
    download_certificates,
    poll_orders,
    ReissueJob,
    ReissueOutcome,
    ReissueReport,
    ReissueResult,
    reissue_orders,
    stops_a_job,
    ValidateJob,
    ValidateOutcome,
    ValidateReport,
    ValidateResult,
    validate_domains,
):
    present_as(_public, __name__)
del _public
