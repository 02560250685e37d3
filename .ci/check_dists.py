"""The built sdist and wheel hold what they must: the LICENSE in both (the wheel's under
its .dist-info), the type marker in the wheel, the README and pyproject in the sdist.

    python3 .ci/check_dists.py DIST_DIR
"""

import sys
import tarfile
import zipfile
from pathlib import Path

dist = Path(sys.argv[1])
[wheel], [sdist] = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
with zipfile.ZipFile(wheel) as archive:
    in_wheel = archive.namelist()
with tarfile.open(sdist) as archive:
    in_sdist = [name.partition("/")[2] for name in archive.getnames()]
wanted = {
    wheel.name: {
        "LICENSE": any(name.endswith(".dist-info/licenses/LICENSE") for name in in_wheel),
        "digicert_async/py.typed": "digicert_async/py.typed" in in_wheel,
    },
    sdist.name: {name: name in in_sdist for name in ("LICENSE", "README.md", "pyproject.toml")},
}
missing = [
    f"{built} has no {name}"
    for built, files in wanted.items()
    for name, ok in files.items()
    if not ok
]
print("\n".join(missing) or f"{wheel.name} and {sdist.name} hold their LICENSE")
sys.exit(1 if missing else 0)
