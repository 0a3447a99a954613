from django.urls import path

from engagements import views

app_name = "engagements"

urlpatterns = [
    path("servicio/<slug:slug>/", views.service_page, name="service_page"),
    path("servicio/", views.service_page, name="service_default"),
    path("consulta-enviada/", views.inquiry_thanks, name="inquiry_thanks"),
    path("portal/", views.home, name="home"),
    path("portal/e/<str:code>/", views.detail, name="detail"),
    path("portal/e/<str:code>/convert/", views.lead_convert, name="lead_convert"),
    path("portal/e/<str:code>/assign/", views.assign, name="assign"),
    path("portal/e/<str:code>/action/<slug:name>/", views.action, name="action"),
    path("portal/e/<str:code>/phase/complete/", views.phase_complete, name="phase_complete"),
    path("portal/e/<str:code>/diagnosis/", views.diagnosis, name="diagnosis"),
    path("portal/e/<str:code>/history/", views.history, name="history"),
    path("portal/e/<str:code>/sessions/", views.sessions, name="sessions"),
    path("portal/e/<str:code>/requests/new/", views.request_send, name="request_send"),
    path("portal/e/<str:code>/notes/", views.note_add, name="note_add"),
    path("portal/e/<str:code>/changes/new/", views.change_raise, name="change_raise"),
    path("portal/requests/<uuid:public_id>/answer/", views.request_answer, name="request_answer"),
    path("portal/requests/<uuid:public_id>/record/", views.request_record, name="request_record"),
    path("portal/attachments/<uuid:public_id>/", views.attachment_download, name="attachment"),
    path("portal/sessions/<uuid:public_id>/schedule/", views.session_schedule, name="session_schedule"),
    path("portal/sessions/<uuid:public_id>/log/", views.session_log, name="session_log"),
    path("portal/sessions/<uuid:public_id>/calendar.ics", views.session_ics, name="session_ics"),
    path("portal/steps/<uuid:public_id>/toggle/", views.step_toggle, name="step_toggle"),
    path("portal/checklist/<uuid:public_id>/deliver/", views.checklist_deliver, name="checklist_deliver"),
    path("portal/checklist/<uuid:public_id>/review/", views.checklist_review, name="checklist_review"),
    path("portal/checklist/<uuid:public_id>/file/", views.checklist_file, name="checklist_file"),
    path("portal/changes/<uuid:public_id>/classify/", views.change_classify, name="change_classify"),
]
