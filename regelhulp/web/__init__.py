"""The web parts of Regelhulp: the web server (widget demo page, /kennisbank) and the kennisbank page."""
