"""A CDS Hooks 2.0 service under ``/cds-services``: discovery, services and feedback, each call
authenticated by the calling EHR's signed JWT (``security``)."""
