# cnnviz as one container: `streamlit run app.py` on port 8501, as a non-root user.
#
#   docker build -t cnnviz .
#   docker run --rm -p 8501:8501 --memory 2g cnnviz          # then open http://localhost:8501
#
# One container is one Streamlit process (about 0.8-1.2 GB once TensorFlow and a network are
# loaded; see docs/deploy.md). Several behind a load balancer need sticky sessions and websockets.
# Python 3.11 and Debian 12 (bookworm), as the tested environment.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt \
 && find /opt/venv -name '__pycache__' -type d -prune -exec rm -rf {} + \
 && rm -rf /opt/venv/lib/python3.11/site-packages/tensorflow/include

FROM python:3.11-slim-bookworm
# tini: a PID 1 that forwards SIGTERM to Streamlit and reaps the training workers' children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin cnnviz
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MALLOC_ARENA_MAX=2 \
    CNNVIZ_MODE=public \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
WORKDIR /app
# The code and the shipped models, owned by root and read-only for the app's user.
COPY .streamlit/ .streamlit/
COPY app.py ./
COPY cnnviz/ cnnviz/
COPY pretrained/ pretrained/
USER cnnviz
EXPOSE 8501
# Streamlit answers /_stcore/health while TensorFlow loads; python's urllib: no curl in the image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ.get('STREAMLIT_SERVER_PORT', '8501'), timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["streamlit", "run", "app.py"]
