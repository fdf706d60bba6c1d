"""Regelhulp's own runtime code for the Rasa server process (see rasa_patches.py, rasa_server.py)."""
