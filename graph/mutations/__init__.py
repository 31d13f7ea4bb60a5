"""The mutation root: one thin adapter per service function, split by concept."""

import graphene

from .attachment import DeleteAttachment, UploadAttachment
from .comment import AddComment, DeleteComment, UpdateComment
from .member import AddProjectMember, RemoveProjectMember
from .project import CreateProject, DeleteProject, UpdateProject
from .task import CreateTask, DeleteTask, UpdateTask
from .webhook import CreateWebhook, DeleteWebhook, RedeliverWebhookDelivery, UpdateWebhook


class Mutation(graphene.ObjectType):
    """Every change. Each takes one `input` and returns a payload whose `errors` list what was
    wrong with the input (then nothing changed); a missing or unseen object is a NOT_FOUND
    error, a role that may not do it FORBIDDEN."""

    create_project = CreateProject.Field()
    update_project = UpdateProject.Field()
    delete_project = DeleteProject.Field()
    add_project_member = AddProjectMember.Field()
    remove_project_member = RemoveProjectMember.Field()
    create_task = CreateTask.Field()
    update_task = UpdateTask.Field()
    delete_task = DeleteTask.Field()
    add_comment = AddComment.Field()
    update_comment = UpdateComment.Field()
    delete_comment = DeleteComment.Field()
    upload_attachment = UploadAttachment.Field()
    delete_attachment = DeleteAttachment.Field()
    create_webhook = CreateWebhook.Field()
    update_webhook = UpdateWebhook.Field()
    delete_webhook = DeleteWebhook.Field()
    redeliver_webhook_delivery = RedeliverWebhookDelivery.Field()
