"""The shared on-disk cloud-set format and cached builds."""
import numpy as np
import pytest
import torch

from i2p.data.store import cached_build, cached_read, load_cloudset, save_cloudset, verify_folder


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


def test_damage_in_place_is_detected_said_and_rebuilt(tmp_path):
    calls = []

    def build(folder):
        calls.append(folder)
        save_cloudset(folder / "a.npz", _samples(seg=True))

    folder = cached_build("demo", {"a": 1}, build, tmp_path)
    assert verify_folder(folder) == [] and len(calls) == 1
    data = (folder / "a.npz").read_bytes()
    (folder / "a.npz").write_bytes(data[:100])  # truncated in place
    assert "has 100 bytes" in verify_folder(folder, content=False)[0]
    with pytest.warns(UserWarning, match="is damaged .*has 100 bytes.*building it again"):
        assert cached_build("demo", {"a": 1}, build, tmp_path) == folder
    assert len(calls) == 2 and (folder / "a.npz").read_bytes() == data
    # same size, other bytes: the size check passes, the content check and the reader do not
    (folder / "a.npz").write_bytes(bytes(len(data)))
    assert verify_folder(folder, content=False) == [] and "corrupted" in verify_folder(folder)[0]
    with pytest.warns(UserWarning, match="cannot be read .*building it again"):
        back = cached_read("demo", {"a": 1}, build, lambda f: load_cloudset(f / "a.npz"), tmp_path)
    assert len(back) == 2 and len(calls) == 3
    (folder / "MANIFEST.json").unlink()  # made by an older i2p: rebuilt too
    with pytest.warns(UserWarning, match="MANIFEST"):
        cached_build("demo", {"a": 1}, build, tmp_path)
    assert len(calls) == 4
