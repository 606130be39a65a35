-- wrk script: POST sign-in attempts to the login server function.
-- PATIO_LOGIN_PASSWORD decides whether they succeed (argon2 verify + new session) or fail.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = os.getenv("PATIO_ORIGIN")
wrk.body = "username=" .. os.getenv("PATIO_LOGIN_USER") .. "&password=" .. os.getenv("PATIO_LOGIN_PASSWORD") .. "&next="
