"""The command line: data make / check / gallery, info, pretrain2d errors."""
import pytest

from i2p.cli import main


def test_data_make_and_gallery(tmp_path, capsys):
    assert main(["data", "make", "modelnet", "--out", str(tmp_path), "--no-progress"]) == 0
    made = list(tmp_path.glob("synth_modelnet-teaching-*"))
    assert len(made) == 1 and (made[0] / "DONE").is_file()
    assert main(["data", "gallery", "modelnet", "--root", str(tmp_path), "--out-dir", str(tmp_path / "fig"), "--dpi", "30"]) == 0
    assert (tmp_path / "fig" / "gallery_modelnet.png").stat().st_size > 10_000
    assert main(["data", "gallery", "mnist", "--out-dir", str(tmp_path)]) == 2


@pytest.mark.parametrize("dataset", ["modelnet", "s3dis", "kitti"])
def test_data_check_reports_problems(tmp_path, capsys, dataset):
    (tmp_path / "empty").mkdir()
    assert main(["data", "check", str(tmp_path / "empty"), "--dataset", dataset]) == 1
    out = capsys.readouterr().out
    assert "problem" in out
    assert main(["data", "check", str(tmp_path / "nowhere"), "--dataset", dataset]) == 2


@pytest.mark.parametrize("cmd", [["info"], ["weights", "list"]])
def test_info_lists_sources(capsys, cmd):
    assert main(cmd) == 0
    out = capsys.readouterr().out
    assert "efficientnet_lite0.imagenet1k" in out and "resnet18.imagenet1k" in out
    assert "resnet50.fractaldb1k" in out and "resnet18.ade20k" in out


def test_pretrain2d_imagefolder_needs_root():
    with pytest.raises(FileNotFoundError, match="--root"):
        main(["pretrain2d", "--dataset", "imagefolder", "--no-progress"])
