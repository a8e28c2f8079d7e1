"""flask-redis: the tutorial's two-container app.

Counts page hits in Redis (key ``hits``) and answers with the count and the
name of the container that served the request. REDIS_HOST names the Redis
server (default ``redis``: a --link alias or a container on the same network).
"""
import os
import socket

from flask import Flask
from redis import Redis

app = Flask(__name__)
redis = Redis(host=os.environ.get("REDIS_HOST", "redis"), port=6379, socket_connect_timeout=3)


@app.route("/")
def hello():
    hits = redis.incr("hits")
    return "Hello Container World! I have been seen %d times and my hostname is %s.\n" % (
        hits,
        socket.gethostname(),
    )


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000, debug=False)
