"""Who is calling, and what they may do (phase 4's identity slice).

- keys.py: ES256 signing keys with a `kid`, a key ring that rotates without downtime, JWKS;
- tokens.py: access tokens issued and verified per RFC 8725 (and external OIDC tokens via JWKS);
- refresh.py + sql.py: refresh-token rotation with reuse detection (a family per login);
- passwords.py, throttle.py: scrypt hashes and a login throttle a victim cannot be locked out by;
- principals.py: Principal, roles and the role -> permission table;
- deps.py: `require(permission)` and the ownership helper (someone else's object is a 404);
- routes.py: POST /auth/token and GET /.well-known/jwks.json (a router factory);
- problems.py: the slice's RFC 9457 problems.

Nothing here is mounted yet: the phase-4 manifest declares it (phases/phase04_auth).
"""
