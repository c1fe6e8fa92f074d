"""FlaskForm classes: validation only; they never write."""
