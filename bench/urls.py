from django.urls import path

from bench.views import tasks_baseline

urlpatterns = [path("tasks", tasks_baseline, name="bench-tasks")]
