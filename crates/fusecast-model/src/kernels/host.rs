//! Contiguous f32 tensors of the flex backend seen as slices, for the fused kernels' loops; the
//! matmuls inside the kernels go back to flex's (gemm) implementation.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::Flex;
use burn::tensor::{DType, Shape, TensorData};

#[derive(Clone, Debug)]
pub struct HostTensor(FlexTensor);

impl HostTensor {
    pub fn new(data: Vec<f32>, shape: impl Into<Shape>) -> Self {
        HostTensor(FlexTensor::from_data(TensorData::new(data, shape)))
    }

    /// A flex tensor made contiguous (copied only when it is a strided view).
    pub fn from_flex(t: FlexTensor) -> Self {
        assert_eq!(
            t.dtype(),
            DType::F32,
            "the fused TFT kernels run in f32; got a {:?} tensor",
            t.dtype()
        );
        if t.is_contiguous() && t.layout().start_offset() == 0 {
            HostTensor(t)
        } else {
            HostTensor(t.to_contiguous())
        }
    }

    pub fn data(&self) -> &[f32] {
        self.0
            .as_slice::<f32>()
            .expect("contiguous f32 by construction")
    }

    /// The data to overwrite: in place when this tensor holds its buffer alone, else in a copy
    /// it then holds (no zeroed allocation either way).
    pub fn data_mut(&mut self) -> &mut [f32] {
        let n = self.0.layout().num_elements();
        &mut self.0.storage_mut::<f32>()[..n]
    }

    pub fn dims(&self) -> Vec<usize> {
        self.0.layout().shape().to_vec()
    }

    /// The same data under another shape of as many elements.
    pub fn reshaped(&self, shape: impl Into<Shape>) -> HostTensor {
        HostTensor(self.0.reshape(shape.into()))
    }

    pub fn into_flex(self) -> FlexTensor {
        self.0
    }

    /// The transpose of a 2-D tensor, stored contiguously.
    pub fn transposed(&self) -> HostTensor {
        let d = self.dims();
        let (rows, cols) = (d[0], d[1]);
        let src = self.data();
        let mut out = vec![0f32; rows * cols];
        for r in 0..rows {
            for (c, v) in src[r * cols..(r + 1) * cols].iter().enumerate() {
                out[c * rows + r] = *v;
            }
        }
        HostTensor::new(out, [cols, rows])
    }
}

pub fn matmul(a: &HostTensor, b: &HostTensor) -> HostTensor {
    HostTensor::from_flex(Flex::float_matmul(a.0.clone(), b.0.clone()))
}
