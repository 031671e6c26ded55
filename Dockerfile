# rnnviz in a container: one replica of the app. Several of them behind a load balancer with cookie
# affinity and one shared session folder serve a class (deploy/kubernetes.yaml; README, "Serving a class").
#
#   docker build -t rnnviz .
#   docker run --rm -p 8501:8501 -v rnnviz-sessions:/sessions rnnviz
#
# Not built on the project's machine (it has no Docker daemon); tests/test_deploy.py checks that the
# commands here are the ones deploy/cluster.sh runs.
FROM python:3.11-slim

# The app's runtime requirements only (no test tools), installed before the code so that a code
# change does not reinstall them.
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY .streamlit/ .streamlit/
COPY app.py ./
COPY pages/ pages/
COPY rnnviz/ rnnviz/
COPY sample_texts/ sample_texts/

# A user of its own, never root. The session folder must belong to it (rnnviz.ui.autosave refuses a
# folder of another user's), so the app creates it inside the mounted volume: /sessions/store.
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin rnnviz \
    && mkdir /sessions && chown rnnviz:rnnviz /sessions && chmod 0700 /sessions
USER 10001
ENV RNNVIZ_SESSION_DIR=/sessions/store \
    OPENBLAS_NUM_THREADS=1 \
    PYTHONUNBUFFERED=1
# All replicas of one deployment must share one cookie secret: set STREAMLIT_SERVER_COOKIE_SECRET
# from a secret store (deploy/kubernetes.yaml does), never in this file.

EXPOSE 8501
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2).read() != b'ok')"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
