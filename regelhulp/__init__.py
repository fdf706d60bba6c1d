"""Regelhulp's shared library, imported by every process: the Rasa server (channels/, components/,
rasa_patches.py, rasa_server.py), the action server (actions/), the web server and the ops/ and tools/
scripts. paths.py holds the project root; knowledge.py and knowledge_schema.py load and check
knowledge/; replies.py, dates.py, conversation.py, facet_selection.py and language.py are what the
actions answer with. Only rasa_patches.py and rasa_server.py import Rasa itself."""
