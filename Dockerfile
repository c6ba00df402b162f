FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install -e .
COPY . .
RUN STATIC_ROOT=/app/var/static python manage.py collectstatic --noinput
# From here on the image is production: it refuses to start without a real SECRET_KEY.
ENV PRODUCTION=true
EXPOSE 8000
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
