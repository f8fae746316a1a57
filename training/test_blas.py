"""The BLAS PyTorch runs its matrix products on. Debian's torch links the generic libblas.so.3;
on a machine with no optimised BLAS installed that resolves to the reference implementation
(netlib): a 1024x1024 matrix product ran at 2.6 GFLOP/s on one core against 50 with OpenBLAS
(session 28), with no error anywhere. scripts/setup.sh --training installs libopenblas0-pthread
for that; this test fails when the library torch loads is still the reference one."""
import importlib.util
import subprocess
import sys
import unittest

# find_spec, not import: loading torch here (seconds) only to decide whether to skip is waste;
# the probe loads it in its own interpreter
HAVE_TORCH = importlib.util.find_spec("torch") is not None

# a fresh interpreter: the library the alternatives system points at when torch is first loaded
PROBE = """
import os
import torch
torch.ones(64, 64) @ torch.ones(64, 64)
libs = set()
with open("/proc/self/maps") as f:
    for line in f:
        path = line.split()[-1]
        if "blas" in os.path.basename(path).lower() or "/blas/" in path:
            libs.add(os.path.realpath(path))
print("\\n".join(sorted(libs)))
"""


@unittest.skipUnless(HAVE_TORCH and sys.platform.startswith("linux"), "needs PyTorch on Linux")
class TorchBlas(unittest.TestCase):
    def test_not_reference_blas(self):
        out = subprocess.run([sys.executable, "-c", PROBE], check=True,
                             capture_output=True, text=True).stdout.split()
        # netlib's reference BLAS lives in .../blas/ (Debian's libblas3); OpenBLAS, BLIS and
        # MKL have their own folders or names
        reference = [p for p in out if "/blas/libblas.so" in p]
        self.assertEqual(reference, [], f"torch uses the reference BLAS ({reference}): run "
                         "scripts/setup.sh --training (installs libopenblas0-pthread)")


if __name__ == "__main__":
    unittest.main()
