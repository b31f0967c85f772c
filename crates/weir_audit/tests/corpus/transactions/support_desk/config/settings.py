SECRET_KEY = "change-me"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "desk"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "desk",
        "CONN_MAX_AGE": 60,
    }
}
