"""The environment tools/setup_env.sh builds, as the rest of the suite expects it."""
import importlib.metadata


def test_one_distribution_provides_cv2():
    """opencv-python alone provides ``cv2``. albumentations' and albucore's wheels require
    opencv-python-headless, a second ``cv2`` whose files overwrite opencv-python's (and
    whose uninstall breaks cv2 for mmcv, mmpose and lth_mm): tools/setup_env.sh installs
    them with --no-deps (requirements/albumentations.txt), but a later plain
    ``pip install albumentations`` or an older environment brings it back."""
    providers = sorted(set(importlib.metadata.packages_distributions().get('cv2', [])))
    assert len(providers) == 1, (
        f'cv2 is provided by {providers or "no distribution"}: keep only opencv-python '
        '(pip uninstall -y opencv-python-headless opencv-python && pip install opencv-python)')
