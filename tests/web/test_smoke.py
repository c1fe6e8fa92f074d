def test_login_lands_on_role_home(login_as):
    c = login_as("clerk")
    resp = c.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/desk/")


def test_post_without_csrf_token_is_refused(client, db):
    from tests import factories
    factories.user("clerk", username="alice")
    db.session.commit()
    resp = client.post("/login", data={"username": "alice", "password": factories.PASSWORD},
                       csrf=False)
    assert resp.status_code == 400
