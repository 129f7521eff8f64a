"""Flask extensions, bound to the app in create_app()."""
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engine.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
