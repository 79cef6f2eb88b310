"""Configuration from the environment: the generated SECRET_KEY file and the proxy / host settings."""
import os
import stat
import threading

from app import config
from app.config import Config


def test_concurrent_first_starts_share_one_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    keys = []
    threads = [threading.Thread(target=lambda: keys.append(config._secret_key())) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = tmp_path / "instance" / "secret_key"
    assert len(keys) == 12 and set(keys) == {path.read_text()} and len(keys[0]) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(path.parent) == ["secret_key"]  # no draft left behind


def test_base_url_hosts_and_proxies_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    for name in ("BASE_URL", "TRUSTED_HOSTS", "TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    default = Config()
    assert (default.BASE_URL, default.TRUSTED_HOSTS, default.TRUSTED_PROXIES) == ("http://127.0.0.1:5000", None, 0)
    monkeypatch.setenv("BASE_URL", "https://tet.exemple.fr/")
    monkeypatch.setenv("TRUSTED_HOSTS", "tet.exemple.fr, www.tet.exemple.fr")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    configured = Config()
    assert configured.BASE_URL == "https://tet.exemple.fr"
    assert configured.TRUSTED_HOSTS == ["tet.exemple.fr", "www.tet.exemple.fr"]
    assert configured.TRUSTED_PROXIES == 1
