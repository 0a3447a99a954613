"""The service "Integración Odoo Tienda Online", as its service sheet describes it.

This is the content `manage.py publish_service` (and `seed_demo`) publishes as the
service and its first terms version. Spanish is the source; English is ours.
"""

SLUG = "integracion-odoo-tienda-online"
NAME_ES = "Integración Odoo Tienda Online"
NAME_EN = "Odoo Online Store Integration"
SUMMARY_ES = (
    "Conecta la operación interna de Odoo con su tienda online dentro de un alcance definido, para reducir el "
    "trabajo duplicado entre ambas plataformas y que pedidos, productos y clientes fluyan de forma coherente."
)
SUMMARY_EN = (
    "Connects your internal Odoo operation with your online shop within a defined scope, to cut the double work "
    "between both platforms so that orders, products and customers flow consistently."
)

# The public page, from the service sheet: each part by its key (engagements/service_page.html).
SHEET = {
    "es": {
        "solves": {
            "title": "Qué resuelve",
            "items": [
                "Trabajo manual para sincronizar información entre la tienda online y Odoo.",
                "Pedidos gestionados de forma separada entre ambas plataformas.",
                "Información de productos o clientes desincronizada.",
                "Necesidad de conectar la operación digital con la operación interna de forma más fluida y ordenada.",
            ],
        },
        "for_whom": {
            "title": "Para quién está pensado",
            "items": [
                "Empresas con base implementada en Odoo y tienda online activa que operan de forma separada.",
                "Negocios que quieren reducir la duplicidad de trabajo entre su canal digital y su operación interna.",
                "Clientes que identifican que la falta de integración les genera ineficiencia, errores o información desactualizada.",
            ],
        },
        "not_for": {
            "title": "Para quién no está pensado",
            "items": [
                "Empresas sin base previa implementada en Odoo.",
                "Casos que requieren omnicanalidad compleja con múltiples canales integrados simultáneamente.",
                "Negocios que necesitan desarrollo a medida de conectores avanzados fuera del alcance estándar.",
            ],
        },
        "includes": {
            "title": "Qué incluye",
            "items": [
                "Revisión inicial del caso y validación del alcance de la integración.",
                "Configuración de la integración entre Odoo y la tienda online dentro del alcance acordado.",
                "Prueba funcional base.",
                "Orientación de cierre.",
                "Capacitación inicial acotada al alcance.",
            ],
        },
        "excludes": {
            "title": "Qué no incluye",
            "items": [
                "Omnicanalidad compleja con múltiples canales en paralelo.",
                "Desarrollo a medida de conectores avanzados.",
                "Diseño o rediseño de la tienda online.",
                "Marketing digital.",
                "Soporte continuo posterior al cierre del servicio.",
            ],
        },
        "client_delivers": {
            "title": "Qué debe entregar el cliente",
            "items": [
                "Accesos y credenciales de la tienda online.",
                "Descripción del canal online y su operación actual.",
                "Flujo actual de gestión de pedidos y productos.",
                "Responsable de validación técnica y operativa.",
                "Validaciones oportunas durante el proceso.",
            ],
        },
        "how": {
            "title": "Modalidad de trabajo",
            "items": [
                "Principalmente remota: trabajo técnico interno del consultor sobre su Odoo y sesiones conjuntas por videoconferencia.",
                "Un servicio con alcance definido, plazo estimado e instancias incluidas; no una bolsa abierta de horas.",
                "Después de cada sesión se registra la actividad, el tiempo utilizado, el objetivo, el avance y los próximos pasos, visibles para usted en todo momento.",
            ],
        },
        "process": {
            "title": "Cómo funciona el proceso",
            "items": [
                "Nos contacta desde esta página con su consulta.",
                "Hacemos el diagnóstico inicial: revisamos su caso, su flujo actual de pedidos y productos, y validamos el alcance.",
                "Preparamos y le presentamos la cotización personalizada, que acepta aquí mismo en el portal.",
                "Con la cotización aceptada se confirman el alcance, los accesos requeridos, el plan de trabajo y la estimación de plazos.",
                "Ejecutamos el trabajo por etapas, con control interno del trabajo técnico y registro de avances.",
                "Usted ve en todo momento las sesiones realizadas, el estado de avance y los próximos pasos.",
                "Si aparecen requerimientos nuevos o fuera del alcance, se tratan como complemento, bolsa de horas o nuevo servicio.",
            ],
        },
        "outcome": {
            "title": "Resultado esperado",
            "items": [
                "Una integración funcionando entre Odoo y su tienda online dentro del alcance acordado.",
                "Mayor continuidad operativa entre su canal digital y su operación interna.",
                "Menor duplicidad de trabajo entre ambas plataformas.",
            ],
        },
    },
    "en": {
        "solves": {
            "title": "What it solves",
            "items": [
                "Manual work to keep the online shop and Odoo in sync.",
                "Orders handled separately in each platform.",
                "Product or customer information out of sync.",
                "The need to connect the digital channel with the internal operation in a smoother, orderly way.",
            ],
        },
        "for_whom": {
            "title": "Who it is for",
            "items": [
                "Companies with Odoo in place and an active online shop that run separately.",
                "Businesses that want to stop doing the same work twice in their digital channel and their operation.",
                "Clients who see that the lack of integration causes inefficiency, errors or outdated information.",
            ],
        },
        "not_for": {
            "title": "Who it is not for",
            "items": [
                "Companies without an Odoo base already in place.",
                "Complex omnichannel cases with several channels integrated at once.",
                "Businesses that need custom development of advanced connectors beyond the standard scope.",
            ],
        },
        "includes": {
            "title": "What is included",
            "items": [
                "Initial review of the case and validation of the integration scope.",
                "Configuration of the integration between Odoo and the online shop within the agreed scope.",
                "Base functional test.",
                "Closing guidance.",
                "Initial training limited to the scope.",
            ],
        },
        "excludes": {
            "title": "What is not included",
            "items": [
                "Complex omnichannel with several channels in parallel.",
                "Custom development of advanced connectors.",
                "Design or redesign of the online shop.",
                "Digital marketing.",
                "Ongoing support after the service closes.",
            ],
        },
        "client_delivers": {
            "title": "What the client delivers",
            "items": [
                "Access and credentials of the online shop.",
                "A description of the online channel and how it runs today.",
                "The current order and product management flow.",
                "A technical and operational validation owner.",
                "Timely validations during the process.",
            ],
        },
        "how": {
            "title": "How we work",
            "items": [
                "Mostly remote: the consultant's internal technical work on your Odoo, and joint sessions by video call.",
                "A defined scope, an estimated timeline and included sessions; not an open bag of hours.",
                "After each session we record the activity, time used, objective, progress and next steps, visible to you at all times.",
            ],
        },
        "process": {
            "title": "How the process works",
            "items": [
                "You contact us from this page with your inquiry.",
                "We run the initial diagnosis: we review your case and your current order and product flow, and validate the scope.",
                "We prepare and present your personalised quote, which you accept right here in the portal.",
                "Once the quote is accepted, the scope, the access required, the work plan and the time estimate are confirmed.",
                "We carry out the work in stages, with internal control of the technical work and a record of progress.",
                "You see the sessions held, the progress and the next steps at all times.",
                "New or out-of-scope requirements are handled as an add-on, an hour bank or a new service.",
            ],
        },
        "outcome": {
            "title": "What you get",
            "items": [
                "A working integration between Odoo and your online shop within the agreed scope.",
                "More operational continuity between your digital channel and your internal operation.",
                "Less double work between both platforms.",
            ],
        },
    },
}

SESSIONS = [
    {
        "kind": "kickoff",
        "title_es": "Reunión inicial de levantamiento",
        "title_en": "Kickoff and requirements gathering",
        "minutes": 60,
    },
    {
        "kind": "flow_validation",
        "title_es": "Reunión de validación de flujo",
        "title_en": "Flow validation",
        "minutes": 60,
    },
    {
        "kind": "midpoint_review",
        "title_es": "Reunión de revisión intermedia",
        "title_en": "Midpoint review",
        "minutes": 60,
    },
    {
        "kind": "testing",
        "title_es": "Reunión de pruebas y validación final",
        "title_en": "Testing and final validation",
        "minutes": 60,
    },
    {
        "kind": "closing",
        "title_es": "Reunión de cierre y capacitación",
        "title_en": "Closing and training",
        "minutes": 60,
    },
]

MILESTONE_PLAN = [
    {
        "code": "scope_confirmed",
        "percent": 40,
        "event": "scope_confirmed",
        "label_es": "al confirmar el alcance y plan de trabajo",
        "label_en": "when scope and work plan are confirmed",
    },
    {
        "code": "configuration_done",
        "percent": 30,
        "event": "phase_completed:configuration",
        "label_es": "al finalizar la fase de configuración e implementación base",
        "label_en": "when the configuration and base implementation phase ends",
    },
    {
        "code": "closed",
        "percent": 30,
        "event": "closed",
        "label_es": "al cierre del servicio, validación final o puesta en marcha",
        "label_en": "at close, final validation or go-live",
    },
]

POLICY_ES = """Aplica la Política Comercial Estándar de Servicios Odoo de AsesórateYa. El servicio se ejecuta con base en el alcance descrito en la ficha y se complementa con dicha política.

Plazo estimado referencial: 4 a 6 semanas desde la confirmación del alcance y la entrega completa de accesos e información por parte del cliente. El plazo real depende de la complejidad del proyecto y de la rapidez con que el cliente entregue accesos, credenciales y validaciones.

Si el proyecto permanece detenido por más de 60 días corridos desde la última solicitud formal de información, accesos o validaciones sin respuesta del cliente, quedará formalmente en estado En espera por cliente.

Si permanece en ese estado por 90 días corridos sin reactivación, AsesórateYa podrá efectuar un cierre administrativo del proyecto. En ese caso, el saldo no ejecutado podrá quedar como crédito a favor del cliente por 6 meses contados desde la fecha del cierre administrativo.

Los requerimientos nuevos o cambios fuera del alcance se tratan como complemento, bolsa de horas o nuevo servicio, según corresponda."""

POLICY_EN = """AsesórateYa's Standard Commercial Policy for Odoo Services applies. The service is delivered within the scope described in its sheet, complemented by that policy.

Estimated timeline: 4 to 6 weeks from scope confirmation and the client's complete delivery of access and information. The actual time depends on the project's complexity and on how quickly the client delivers access, credentials and validations.

If the project stays stopped for more than 60 calendar days after the latest formal request for information, access or validations without an answer from the client, it formally becomes Waiting on client.

If it stays in that status for 90 calendar days without reactivation, AsesórateYa may close the project administratively. The unexecuted balance may then remain as a credit in the client's favour for 6 months from the date of the administrative close.

New requirements or changes outside the scope are handled as an add-on, an hour bank or a new service, as appropriate."""
