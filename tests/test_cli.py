"""The command line: data make / check / gallery, info, pretrain2d errors."""
import pytest

from i2p.cli import main


def test_data_make_and_gallery(tmp_path, capsys):
    assert main(["data", "make", "modelnet", "--out", str(tmp_path), "--no-progress"]) == 0
    made = list(tmp_path.glob("synth_modelnet40-teaching-*"))
    assert len(made) == 1 and (made[0] / "DONE").is_file()
    assert main(["data", "gallery", "ModelNet40", "--root", str(tmp_path), "--out-dir", str(tmp_path / "fig"), "--dpi", "30"]) == 0
    assert (tmp_path / "fig" / "gallery_modelnet40.png").stat().st_size > 10_000
    assert main(["data", "gallery", "mnist", "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == "[i2p] error: unknown data set 'mnist'; valid: modelnet40 (modelnet), s3dis, semantickitti (kitti)\n"


def test_data_make_unknown_profile_is_one_line(tmp_path, capsys):
    assert main(["data", "make", "kitti", "--profile", "huge", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown SynthKITTI profile 'huge'; choose one of teaching, full" in err


@pytest.mark.parametrize("dataset", ["modelnet", "modelnet40", "s3dis", "kitti", "semantickitti", "SemanticKITTI"])
def test_data_check_reports_problems(tmp_path, capsys, dataset):
    (tmp_path / "empty").mkdir()
    assert main(["data", "check", str(tmp_path / "empty"), "--dataset", dataset]) == 1
    out = capsys.readouterr().out
    assert "problem" in out
    assert main(["data", "check", str(tmp_path / "empty"), "--dataset", dataset, "--deep"]) == 1
    assert main(["data", "check", str(tmp_path / "nowhere"), "--dataset", dataset]) == 2


def test_data_list_names_every_dataset_and_its_eval_split(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("modelnet40 (also modelnet)", "s3dis", "semantickitti (also kitti)"):
        assert name in out
    assert out.count("<- the paper evaluates here") == 3


@pytest.mark.parametrize("cmd", [["info"], ["weights", "list"]])
def test_info_lists_sources(capsys, cmd):
    assert main(cmd) == 0
    out = capsys.readouterr().out
    assert "efficientnet_lite0.imagenet1k" in out and "resnet18.imagenet1k" in out
    assert "resnet50.fractaldb1k" in out and "resnet18.ade20k" in out


def test_pretrain2d_imagefolder_needs_root(capsys):
    assert main(["pretrain2d", "--dataset", "imagefolder", "--no-progress"]) == 2
    assert "--root" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="--root"):
        main(["--debug", "pretrain2d", "--dataset", "imagefolder", "--no-progress"])


def test_quickstart_lists_every_scope(capsys):
    with pytest.raises(SystemExit):
        main(["quickstart", "--help"])
    out = capsys.readouterr().out
    for scope in ("io", "io_stats", "io_bn", "whole", "scratch", "learn_t"):
        assert scope in out


@pytest.mark.parametrize("argv, says", [
    (["train", "teaching/t1.io.modelnet40", "--bogus"], "unrecognized arguments: --bogus"),
    (["data", "gallery", "--dpi", "abc"], "argument --dpi: invalid int value: 'abc'"),
    (["nosuch"], "invalid choice: 'nosuch'"),
])
def test_usage_errors_are_one_line(capsys, argv, says):
    """Unknown options and unparsable values: one [i2p] error line naming them, exit 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("[i2p] error: ") and says in err[0] and "--help" in err[0]
