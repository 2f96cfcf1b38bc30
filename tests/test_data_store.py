"""The shared on-disk cloud-set format and cached builds."""
import numpy as np
import pytest
import torch

from i2p.data.store import cached_build, load_cloudset, save_cloudset


def _samples(seg: bool):
    g = torch.Generator().manual_seed(0)
    out = []
    for i, n in enumerate((5, 7)):
        s = {"points": torch.randn(n, 3, generator=g), "feats": torch.rand(n, 4, generator=g), "name": f"s{i}"}
        s["label"] = torch.randint(0, 3, (n,), generator=g) if seg else i
        out.append(s)
    return out


@pytest.mark.parametrize("seg", [False, True])
def test_roundtrip(tmp_path, seg):
    samples = _samples(seg)
    save_cloudset(tmp_path / "a.npz", samples)
    back = load_cloudset(tmp_path / "a.npz")
    assert [s["name"] for s in back] == ["s0", "s1"]
    for a, b in zip(samples, back):
        assert torch.equal(a["points"], b["points"]) and torch.equal(a["feats"], b["feats"])
        assert torch.equal(torch.as_tensor(a["label"]), torch.as_tensor(b["label"]))
    assert not list(tmp_path.glob(".*tmp*"))


def test_bad_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="corrupt"):
        load_cloudset(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not an i2p cloud set"):
        load_cloudset(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        load_cloudset(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="empty"):
        save_cloudset(tmp_path / "e.npz", [])


def test_cached_build_is_atomic_and_cleans_up(tmp_path):
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "x.txt").write_text("ok")

    def crash(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cached_build("demo", {"a": 1}, crash, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written left behind
    (tmp_path / ".demo-deadbeef00.tmp999999999").mkdir()  # from a dead process, other key
    stale = tmp_path / f".demo-{'0' * 10}.tmp999999999"
    folder = cached_build("demo", {"a": 1}, build, tmp_path)
    assert (folder / "DONE").is_file() and (folder / "x.txt").read_text() == "ok"
    assert cached_build("demo", {"a": 1}, build, tmp_path) == folder and len(calls) == 1
    assert cached_build("demo", {"a": 2}, build, tmp_path) != folder and len(calls) == 2
    leftover = tmp_path / f".{folder.name}.tmp999999999"
    leftover.mkdir()
    (folder / "DONE").unlink()  # an incomplete folder is rebuilt, dead tmp removed
    cached_build("demo", {"a": 1}, build, tmp_path)
    assert len(calls) == 3 and not leftover.exists() and not stale.exists()
