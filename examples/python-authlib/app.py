"""An agency e-service that logs people in through vpm-gateway: Flask + Authlib (Debian 12: 1.2.0).

Authorization code flow with PKCE (S256, switched on explicitly: Authlib does not send PKCE by default),
state and nonce (generated and checked by Authlib). The ID token is verified by Authlib (signature with
the gateway's JWKS, iss, aud, exp, nonce, at_hash); userinfo is fetched with the access token and its
`sub` compared with the ID token's. Errors from the gateway (user_cancel, access_denied, ...) end on an
error page with a link to try again, never in an automatic redirect. Logout is RP-initiated with the
ID token as hint.

Run: python3 app.py (settings from the environment, see README.md).
"""

import os
import secrets
from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, abort, redirect, render_template_string, request, session

ISSUER = os.environ.get("ISSUER", "https://127.0.0.1:3443").rstrip("/")
CLIENT_ID = os.environ.get("CLIENT_ID", "example-python-authlib")
CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "example-python-authlib-secret-not-for-production")
PORT = int(os.environ.get("PORT", "8403"))
BASE_URL = os.environ.get("BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
# TLS towards the gateway (discovery, token, JWKS, userinfo) is verified by requests against the system's
# CAs, or against the file named by the REQUESTS_CA_BUNDLE environment variable (the development CA:
# REQUESTS_CA_BUNDLE=certs/dev/ca.pem). requests lets that variable win over a session's own `verify`.

app = Flask(__name__)
# Signs Flask's session cookie, which holds Authlib's state data (state, nonce, PKCE verifier) during
# the login and the person's claims after it. Set SECRET_KEY to a long random value that survives restarts.
app.secret_key = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(32)
app.config.update(
    SESSION_COOKIE_HTTPONLY=True,
    # Lax: the cookie comes along on the gateway's top-level redirect back to /callback
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_SECURE=BASE_URL.startswith("https:"),
)

oauth = OAuth(app)
oauth.register(
    "vpm",
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={
        # the gateway's scopes; values it does not know (email, offline_access) would be ignored
        "scope": "openid profile personal_code",
        # PKCE: required by the gateway, off in Authlib unless asked for
        "code_challenge_method": "S256",
        # the method registered for this client (token_endpoint_auth_method in the gateway's clients[]),
        # the only one the gateway accepts from it
        "token_endpoint_auth_method": "client_secret_basic",
    },
)

# Errors the gateway returns to the redirect URI, and what to tell the person.
ERROR_TEXT = {
    "user_cancel": "You cancelled the login.",
    "access_denied": "The login was refused by the identity provider, or its answer could not be verified.",
    "temporarily_unavailable": "The identity provider is temporarily unavailable. Please try again later.",
    "unmet_authentication_requirements": "The login did not reach the level of assurance this service needs.",
    "login_required": "Please log in.",
    "invalid_request": "The login request was not accepted (a configuration problem of this service).",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1>
{% if error %}
<p>{{ message }}</p>
<p>Error: <code id="error">{{ error }}</code></p>
<p><a href="/">Back to the service</a></p>
{% elif person %}
<h2>ID token</h2>
<dl id="id-token">{% for k, v in person.claims.items() %}<dt>{{ k }}</dt><dd>{{ v if v is string else (v | join(' ') if v is iterable else v) }}</dd>{% endfor %}</dl>
<h2>Userinfo</h2>
<dl id="userinfo">{% for k, v in person.userinfo.items() %}<dt>{{ k }}</dt><dd>{{ v if v is string else (v | join(' ') if v is iterable else v) }}</dd>{% endfor %}</dl>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
{% else %}
<p><a href="/login">Log in</a> · <a href="/login?idp=demo-bank">Log in with Demo Bank</a></p>
{% endif %}
</body></html>"""


@app.get("/")
def index():
    person = session.get("person")
    if not person:
        return render_template_string(PAGE, title="Example e-service (Python)", person=None, error=None)
    claims = person["claims"]
    title = f"Welcome, {claims.get('given_name', '')} {claims.get('family_name', '')}"
    return render_template_string(PAGE, title=title, person=person, error=None)


@app.get("/login")
def login():
    params = {"ui_locales": "en"}
    # Optional: go straight to one provider, and/or ask for a minimum level of assurance.
    idp = request.args.get("idp", "")
    if idp and len(idp) <= 30 and all(c.islower() or c.isdigit() or c == "-" for c in idp):
        params["idp_hint"] = idp
    if request.args.get("acr") in ("low", "substantial", "high"):
        params["acr_values"] = request.args["acr"]
    # state, nonce and the PKCE verifier are generated by Authlib and kept in the session
    return oauth.vpm.authorize_redirect(f"{BASE_URL}/callback", **params)


@app.get("/callback")
def callback():
    try:
        # checks state, sends the PKCE verifier, verifies the ID token (signature, iss, aud, exp, nonce)
        token = oauth.vpm.authorize_access_token()
    except OAuthError as err:
        # An error the gateway sent to the redirect URI (RFC 6749 4.1.2.1), or a state that does not
        # match this browser's login: show it, do not start a new login by itself.
        state = request.args.get("state")
        if state:
            session.pop(f"_state_vpm_{state}", None)  # this attempt is over
        status = 503 if err.error == "temporarily_unavailable" else 401
        message = ERROR_TEXT.get(err.error, "The login did not succeed.")
        return render_template_string(PAGE, title="Login failed", error=err.error, message=message), status
    claims = dict(token["userinfo"])  # the verified ID token claims
    userinfo = dict(oauth.vpm.userinfo(token=token))
    if userinfo.get("sub") != claims["sub"]:
        abort(502)
    session.clear()  # a fresh session for the logged-in person
    session["person"] = {"claims": claims, "userinfo": userinfo, "id_token": token["id_token"]}
    return redirect("/")


@app.post("/logout")
def logout():
    # RP-initiated logout: forget the person here, then end the gateway's session with the ID token as hint.
    person = session.pop("person", None)
    session.clear()
    if not person:
        return redirect("/", code=303)
    end_session = oauth.vpm.load_server_metadata()["end_session_endpoint"]
    query = urlencode({"id_token_hint": person["id_token"], "post_logout_redirect_uri": f"{BASE_URL}/"})
    return redirect(f"{end_session}?{query}", code=303)


if __name__ == "__main__":
    # Flask's development server, for trying the example; run a WSGI server (gunicorn, mod_wsgi) in production.
    app.run(host="127.0.0.1", port=PORT)
