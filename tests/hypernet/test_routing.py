"""Routed checkpoints: the corpus hypernetwork reads documents like its training ones, its fallback the rest."""
import shutil

import pytest
import torch

from hypernet import base_model, routing
from hypernet.generate import AdapterGenerator
from hypernet.model import HyperNetwork, checkpoint_files, checkpoint_id

RECORDS = [f"Currency {name} has the numeric code {code} and the alphabetic code {abbr}. It is used in {land}."
           for name, code, abbr, land in [("Birr", 230, "ETB", "Ethiopia"), ("Nakfa", 232, "ERN", "Eritrea"),
                                          ("Euro", 978, "EUR", "the euro area"), ("Pound", 818, "EGP", "Egypt"),
                                          ("Rand", 710, "ZAR", "South Africa"), ("Dalasi", 270, "GMD", "Gambia"),
                                          ("Kwacha", 967, "ZMW", "Zambia"), ("Lilangeni", 748, "SZL", "Eswatini")]]
UNLIKE = "def main(argv):\n    for path in argv[1:]:\n        print(open(path).read())\n    return 0\n"


def _ids(tok, texts):
    return [tok(t, add_special_tokens=False).input_ids for t in texts]


def test_the_threshold_is_the_quantile_of_the_training_documents_nearest_neighbours(tiny_model_path):
    tok = base_model.load_tokenizer(tiny_model_path)
    fitted = routing.fit(_ids(tok, RECORDS), quantile=0.25)
    assert fitted.keys.shape == (len(RECORDS), routing.HASH_BUCKETS)
    torch.testing.assert_close(fitted.keys.norm(dim=1), torch.ones(len(RECORDS)))
    assert fitted.threshold == pytest.approx(torch.tensor(fitted.nearest).quantile(0.25).item())
    assert sum(s < fitted.threshold for s in fitted.nearest) == 2  # a quarter of 8, by construction
    router = routing.Router(fitted.keys, fitted.idf, fitted.threshold, fallback=None)
    new_record = "Currency Lari has the numeric code 981 and the alphabetic code GEL. It is used in Georgia."
    assert router.to_corpus(_ids(tok, [new_record, UNLIKE])) == [True, False]
    with pytest.raises(ValueError, match="at least 2"):
        routing.fit(_ids(tok, RECORDS[:1]), 0.1)
    with pytest.raises(ValueError, match="quantile"):
        routing.fit(_ids(tok, RECORDS), 0.0)


def _corpus_checkpoint(tmp_path, tiny_hypernet_path) -> str:
    """A copy of the tiny checkpoint with every weight moved: a stand-in for a corpus-trained one."""
    net = HyperNetwork.load(tiny_hypernet_path)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    folder = str(tmp_path / "corpus-net")
    net.save(folder)
    return folder


def test_a_routed_checkpoint_gives_unlike_documents_the_fallbacks_adapter(tmp_path, tiny_model_path,
                                                                          tiny_hypernet_path):
    model, tok, _ = base_model.load(tiny_model_path)
    folder = _corpus_checkpoint(tmp_path, tiny_hypernet_path)
    plain_id = checkpoint_id(folder)
    routing.write(folder, routing.fit(_ids(tok, RECORDS), 0.1), HyperNetwork.load(tiny_hypernet_path))
    assert checkpoint_files(folder)[-1] == routing.ROUTER_FILE and checkpoint_id(folder) != plain_id

    routed = AdapterGenerator(model, tok, HyperNetwork.load(folder), read_dtype="model")
    own = AdapterGenerator(model, tok, HyperNetwork.load(tiny_hypernet_path), read_dtype="model")
    unrouted = HyperNetwork.load(folder)
    unrouted.router = None
    corpus = AdapterGenerator(model, tok, unrouted, read_dtype="model")
    texts = ["Currency Lari has the numeric code 981 and the alphabetic code GEL. It is used in Georgia.", UNLIKE]
    made = routed.generate(texts)
    assert routed.routed == {"corpus": 1, "fallback": 1}
    for got, want in zip(made, [corpus.generate(texts[:1])[0], own.generate(texts[1:])[0]]):
        assert got.lora.rank == want.lora.rank
        torch.testing.assert_close(got.lora.delta("mlp.down_proj", 1), want.lora.delta("mlp.down_proj", 1))
    # The two hypernetworks' adapters differ, so the test tells them apart.
    assert not torch.allclose(corpus.generate(texts[1:])[0].lora.delta("mlp.down_proj", 1),
                              made[1].lora.delta("mlp.down_proj", 1))

    # Routing stays one level deep: a routed checkpoint as the next fallback hands over its own fallback.
    again = str(tmp_path / "again")
    shutil.copytree(tiny_hypernet_path, again)
    routing.write(again, routing.fit(_ids(tok, RECORDS), 0.1), HyperNetwork.load(folder))
    fallback = HyperNetwork.load(again).router.fallback
    for name, value in HyperNetwork.load(tiny_hypernet_path).state_dict().items():
        torch.testing.assert_close(fallback.state_dict()[name], value)


def test_a_fallback_that_cuts_documents_differently_is_refused(tmp_path, tiny_model_path, tiny_hypernet_path):
    tok = base_model.load_tokenizer(tiny_model_path)
    folder = _corpus_checkpoint(tmp_path, tiny_hypernet_path)
    other = HyperNetwork.load(tiny_hypernet_path, chunk_len=HyperNetwork.load(folder).cfg.chunk_len * 2)
    with pytest.raises(ValueError, match="chunk_len"):
        routing.write(folder, routing.fit(_ids(tok, RECORDS), 0.1), other)
    assert checkpoint_files(folder) == checkpoint_files(tiny_hypernet_path)  # left as it was
