"""Multi-process training through torchrun (gloo on CPU): DDP keeps the ranks in sync."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch


@pytest.mark.slow
def test_torchrun_two_ranks_stay_in_sync(tmp_path):
    script = Path(__file__).parent / "scripts" / "ddp_fit.py"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517", str(script), str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    a, b = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    init = torch.load(tmp_path / "init.pt")
    assert a.keys() == b.keys() == init.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=f"ranks diverged at {k}")
    moved = [k for k in a if not torch.equal(a[k], init[k])]
    assert len(moved) > len(a) // 2, "training did not update the weights"
