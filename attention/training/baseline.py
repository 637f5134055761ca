"""The non-attention reference: TF-IDF word 1-2 grams + logistic regression, on the same split."""

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from attention.training.metrics import classification_report


def tfidf_baseline(dataset, C=3.0):
    """Fit on train, report on test: {'accuracy', 'macro_f1'}."""
    clf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True), LogisticRegression(C=C, max_iter=2000)
    )
    clf.fit(dataset.train.texts, dataset.train.labels)
    rep = classification_report(dataset.test.labels, clf.predict(dataset.test.texts), dataset.classes)
    return rep.summary()
