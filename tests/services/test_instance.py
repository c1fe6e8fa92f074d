"""A real installation starts from a clean clone: the instance folder may not exist yet."""
from app import create_app
from app.config import Config


def test_create_app_makes_the_instance_folder_for_the_sqlite_file(tmp_path, monkeypatch):
    instance = tmp_path / "not-yet" / "instance"

    class Fresh(Config):
        INSTANCE_PATH = instance
        SECRET_KEY = "set-in-the-environment"  # so nothing else writes into the folder
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'desk.sqlite3'}"

    create_app(Fresh)
    assert instance.is_dir()
