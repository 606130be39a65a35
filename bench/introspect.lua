-- wrk script: RFC 7662 introspection of one token by a registered client (HTTP Basic).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("PATIO_CLIENT_BASIC")
wrk.body = "token=" .. os.getenv("PATIO_INTROSPECT_TOKEN")
