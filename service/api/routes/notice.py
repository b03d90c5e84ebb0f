"""The algorithm notice and the model cards (:mod:`service.usecases.notice`): public, no key needed, so that
anyone can read how the service recommends (Algorithmic Recommendation Provisions art. 16, PIPL art. 24)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path

from service.api.deps import ServicesDep
from service.api.routes.common import API_PREFIX, NOT_FOUND, responses
from service.api.schemas import AlgorithmNoticePublic, ModelCardPublic, NoticeSectionPublic
from service.usecases import notice

router = APIRouter(prefix=API_PREFIX, tags=["transparency"])

VersionPath = Annotated[
    str, Path(max_length=64, description="A model version, e.g. 20261203T021500Z-1a2b3c4d.")
]


@router.get("/algorithm", response_model=AlgorithmNoticePublic)
def algorithm(services: ServicesDep) -> AlgorithmNoticePublic:
    """The algorithm notice (算法公示), in Chinese and English; public, no key needed."""
    result = notice.algorithm_notice(services)
    return AlgorithmNoticePublic(
        sections=[
            NoticeSectionPublic.model_validate(
                {
                    "key": s.key,
                    "title": {"zh": s.title[0], "en": s.title[1]},
                    "body": {"zh": s.body[0], "en": s.body[1]},
                }
            )
            for s in result.sections
        ],
        serving_version=result.serving_version,
        versions=result.versions,
        non_personalised_version=result.non_personalised_version,
        settings=result.settings,
    )


@router.get("/models/{version}/card", response_model=ModelCardPublic, responses=responses(NOT_FOUND))
def model_card(version: VersionPath, services: ServicesDep) -> ModelCardPublic:
    """A model version's card from its manifest: training data, metrics, calibration, gate, fairness;
    public, no key needed."""
    return ModelCardPublic.model_validate(asdict(notice.model_card(services, version)))
