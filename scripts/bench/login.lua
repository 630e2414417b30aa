-- wrk script: log in as the benchmark user.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("REHOME_BENCH_LOGIN_BODY")
