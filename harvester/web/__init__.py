"""The review page: ``harvester serve`` runs it over the same library as ``harvester review``.

``app.create_app`` builds the Starlette app (page and JSON API), ``pages`` renders the HTML,
``data`` gathers what both show, ``security`` guards every request, ``server`` runs it.
"""
