"""Running and keeping the product: servers, the production profile, training, the spaCy pipeline,
validation, the web server and kennisbank page, insights, purge, source checks; and the set-up scripts."""
