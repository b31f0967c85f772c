import os

DATABASE_DSN = os.environ["DATABASE_DSN"]
DATABASE_URL = os.environ["DATABASE_URL"]
