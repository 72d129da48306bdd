"""A test loop that evaluates the student and the teacher of a distillation model."""
import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop
from mmrazor.registry import LOOPS


@LOOPS.register_module()
class TeacherStudentTestLoop(TestLoop):
    """Evaluate the student (metrics as usual) and then the teacher (``teacher/`` prefix).

    MMRazor's ``SingleTeacherDistillValLoop`` does this for validation; ``tools/test.py
    --teacher`` uses this loop so that a test run reports both on the same data.
    """

    def run(self) -> dict:
        """Run the test set through the student, then through the teacher."""
        model = self.runner.model
        model = model.module if is_model_wrapper(model) else model
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = dict(self.evaluator.evaluate(len(self.dataloader.dataset)))
        teacher = model.teacher
        # the teacher normalises its inputs exactly like the student
        teacher.data_preprocessor = model.data_preprocessor
        teacher.eval()
        for data_batch in self.dataloader:
            with torch.no_grad():
                outputs = teacher.test_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        for key, value in self.evaluator.evaluate(len(self.dataloader.dataset)).items():
            metrics[f'teacher/{key}'] = value
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics
